package org.spicestream.protocol;

import java.util.List;

/** START_STOP: (re)start streaming with one of {@code codecs}, or stop when the list is empty. */
public record StartStop(List<VideoCodec> codecs) implements HostMessage {

    /** Stop streaming. */
    public static final StartStop STOP = new StartStop(List.of());

    public StartStop {
        codecs = List.copyOf(codecs);
        if (codecs.size() > StreamLimits.START_STOP_MAX_CODECS) {
            throw new IllegalArgumentException("too many codecs: " + codecs.size());
        }
    }

    public static StartStop of(VideoCodec... codecs) {
        return new StartStop(List.of(codecs));
    }

    public boolean isStop() {
        return codecs.isEmpty();
    }

    @Override
    public int type() {
        return MessageType.START_STOP;
    }
}
