package org.spicestream.protocol;

/** FORMAT: a new stream of {@code width × height} pixels in {@code codec} starts; DATA that follows belongs to it. */
public record Format(int width, int height, VideoCodec codec) implements GuestMessage {

    public Format {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("stream size must be positive: " + width + "x" + height);
        }
        if (codec == null) {
            throw new IllegalArgumentException("codec is required");
        }
    }

    @Override
    public int type() {
        return MessageType.FORMAT;
    }
}
