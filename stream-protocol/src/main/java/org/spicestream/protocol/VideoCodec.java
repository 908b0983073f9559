package org.spicestream.protocol;

/** A video codec a guest may encode with ({@code SpiceVideoCodecType}), with its SPICE display capability bit. */
public enum VideoCodec {
    MJPEG(1, 9),
    VP8(2, 10),
    H264(3, 11),
    // Bit 12 is PREF_VIDEO_CODEC_TYPE, so the capability bit cannot be computed from the wire value.
    VP9(4, 13),
    H265(5, 14);

    private final int wireValue;
    private final int displayCapability;

    VideoCodec(int wireValue, int displayCapability) {
        this.wireValue = wireValue;
        this.displayCapability = displayCapability;
    }

    /** The {@code SpiceVideoCodecType} byte. */
    public int wireValue() {
        return wireValue;
    }

    /** The display-channel capability bit a client announces when it decodes this codec. */
    public int displayCapability() {
        return displayCapability;
    }

    /** The codec with this wire value, or {@code null} when the value names no codec. */
    public static VideoCodec fromWire(int value) {
        for (VideoCodec codec : values()) {
            if (codec.wireValue == value) {
                return codec;
            }
        }
        return null;
    }
}
