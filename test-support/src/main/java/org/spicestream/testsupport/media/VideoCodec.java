package org.spicestream.testsupport.media;

/** The stream-device codecs ({@code SpiceVideoCodecType}) with the wire value the guest announces in FORMAT. */
public enum VideoCodec {
    MJPEG(1),
    VP8(2),
    H264(3),
    VP9(4),
    H265(5);

    private final int wireValue;

    VideoCodec(int wireValue) {
        this.wireValue = wireValue;
    }

    /** The {@code SpiceVideoCodecType} value. */
    public int wireValue() {
        return wireValue;
    }

    /** The codec with that {@code SpiceVideoCodecType} value. */
    public static VideoCodec ofWireValue(int value) {
        for (VideoCodec c : values()) {
            if (c.wireValue == value) {
                return c;
            }
        }
        throw new IllegalArgumentException("no video codec " + value);
    }
}
