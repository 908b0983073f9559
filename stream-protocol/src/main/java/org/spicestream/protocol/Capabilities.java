package org.spicestream.protocol;

import java.util.Arrays;
import java.util.HexFormat;

/** CAPABILITIES (both directions): a bitmap, capability n is bit n mod 8 of byte n / 8. */
public final class Capabilities implements GuestMessage, HostMessage {

    /** The peer handles QUALITY_INDICATOR. */
    public static final int QUALITY_INDICATOR = 0;

    /** No extension, as an empty payload. */
    public static final Capabilities NONE = new Capabilities(new byte[0]);

    private final byte[] bitmap;

    private Capabilities(byte[] bitmap) {
        if (bitmap.length > StreamLimits.CAPABILITIES_MAX_BYTES) {
            throw new IllegalArgumentException("capability bitmap longer than " + StreamLimits.CAPABILITIES_MAX_BYTES);
        }
        this.bitmap = bitmap;
    }

    /** Capabilities with exactly this bitmap (copied). */
    public static Capabilities ofBitmap(byte[] bitmap) {
        return new Capabilities(bitmap.clone());
    }

    /** The smallest bitmap with these capability bits set; at least one byte, as the reference host sends. */
    public static Capabilities of(int... bits) {
        int max = -1;
        for (int bit : bits) {
            if (bit < 0 || bit >= StreamLimits.CAPABILITIES_MAX_BYTES * 8) {
                throw new IllegalArgumentException("capability bit out of range: " + bit);
            }
            max = Math.max(max, bit);
        }
        byte[] bitmap = new byte[Math.max(1, max / 8 + 1)];
        for (int bit : bits) {
            bitmap[bit / 8] |= (byte) (1 << (bit % 8));
        }
        return new Capabilities(bitmap);
    }

    @Override
    public int type() {
        return MessageType.CAPABILITIES;
    }

    public boolean has(int bit) {
        return bit >= 0 && bit / 8 < bitmap.length && (bitmap[bit / 8] & (1 << (bit % 8))) != 0;
    }

    /** Capabilities both sides have. */
    public Capabilities and(Capabilities other) {
        byte[] common = new byte[Math.min(bitmap.length, other.bitmap.length)];
        for (int i = 0; i < common.length; i++) {
            common[i] = (byte) (bitmap[i] & other.bitmap[i]);
        }
        return new Capabilities(common);
    }

    public byte[] bitmap() {
        return bitmap.clone();
    }

    public int size() {
        return bitmap.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Capabilities c && Arrays.equals(bitmap, c.bitmap);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bitmap);
    }

    @Override
    public String toString() {
        return "Capabilities[" + HexFormat.of().formatHex(bitmap) + "]";
    }
}
