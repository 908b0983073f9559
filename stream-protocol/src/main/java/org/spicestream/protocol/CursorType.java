package org.spicestream.protocol;

/** The {@code SpiceCursorType} values a guest may use in CURSOR_SET, with the bits per pixel the host counts. */
public enum CursorType {
    /** 32-bit ARGB (bytes B, G, R, A), the type every client renders. */
    ALPHA(0, 32),
    /** 24-bit pixels followed by a 1-bit AND mask. */
    COLOR24(5, 25),
    /** 32-bit pixels followed by a 1-bit AND mask packed over the whole image. */
    COLOR32(6, 33);

    private final int wireValue;
    private final int bitsPerPixel;

    CursorType(int wireValue, int bitsPerPixel) {
        this.wireValue = wireValue;
        this.bitsPerPixel = bitsPerPixel;
    }

    public int wireValue() {
        return wireValue;
    }

    /** Bits per pixel including the AND mask, as the reference counts them. */
    public int bitsPerPixel() {
        return bitsPerPixel;
    }

    /** Bytes of pixel data (and mask) a {@code width × height} cursor of this type needs: ⌈w·h·bits/8⌉. */
    public int requiredDataBytes(int width, int height) {
        long bits = (long) width * height * bitsPerPixel;
        return (int) ((bits + 7) / 8);
    }

    /** The cursor type with this wire value, or {@code null} when a guest may not use it. */
    public static CursorType fromWire(int value) {
        for (CursorType type : values()) {
            if (type.wireValue == value) {
                return type;
            }
        }
        return null;
    }
}
