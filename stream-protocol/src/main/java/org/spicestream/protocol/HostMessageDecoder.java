package org.spicestream.protocol;

/** Pipeline decoder for host → guest bytes, for guest-side agents: emits {@link HostMessage}s. */
public final class HostMessageDecoder extends FrameDecoder {

    public HostMessageDecoder(StreamLimits limits) {
        super(new HostStreamParser(limits));
    }

    public HostMessageDecoder() {
        this(StreamLimits.DEFAULT);
    }
}
