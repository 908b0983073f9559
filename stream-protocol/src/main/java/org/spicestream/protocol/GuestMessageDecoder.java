package org.spicestream.protocol;

/**
 * Pipeline decoder for guest → host bytes: emits {@link GuestMessage}s. After a violation it fires one
 * {@link StreamProtocolException} and discards input until {@link #reset()} (B10).
 */
public final class GuestMessageDecoder extends FrameDecoder {

    private final GuestStreamParser parser;

    public GuestMessageDecoder(StreamLimits limits) {
        this(new GuestStreamParser(limits));
    }

    public GuestMessageDecoder() {
        this(StreamLimits.DEFAULT);
    }

    private GuestMessageDecoder(GuestStreamParser parser) {
        super(parser);
        this.parser = parser;
    }

    /** The parser state (limits, failure, buffered bytes, QUALITY_INDICATOR permission). */
    public GuestStreamParser parser() {
        return parser;
    }
}
