package org.spicestream.cursor.internal;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * A cursor image as the cursor channel sends it: SPICE cursor type, size, hot spot and exactly the
 * pixel bytes the type needs (spice-wire §10.3: extra guest bytes are dropped).
 */
public record CursorShape(int type, int width, int height, int hotSpotX, int hotSpotY, byte[] data) {

    public CursorShape {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    public int dataLength() {
        return data.length;
    }

    void writeData(ByteBuf out) {
        out.writeBytes(data);
    }

    /** Bits per pixel the reference counts for a guest cursor type: ALPHA 32, COLOR24 25, COLOR32 33. */
    public static int bitsPerPixel(int type) {
        return switch (type) {
            case 0 -> 32;
            case 5 -> 25;
            case 6 -> 33;
            default -> throw new IllegalArgumentException("not a guest cursor type: " + type);
        };
    }

    /** Builds the shape from guest CURSOR_SET fields, keeping the first ⌈w·h·bits/8⌉ data bytes. */
    public static CursorShape fromGuest(int type, int width, int height, int hotSpotX, int hotSpotY, byte[] guestData) {
        long needed = ((long) width * height * bitsPerPixel(type) + 7) / 8;
        if (guestData.length < needed) {
            throw new IllegalArgumentException("cursor data too short: " + guestData.length + " < " + needed);
        }
        return new CursorShape(type, width, height, hotSpotX, hotSpotY, Arrays.copyOf(guestData, (int) needed));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CursorShape s
                && type == s.type && width == s.width && height == s.height
                && hotSpotX == s.hotSpotX && hotSpotY == s.hotSpotY && Arrays.equals(data, s.data);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(type, width, height, hotSpotX, hotSpotY) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "CursorShape[type=" + type + ", " + width + "x" + height + ", hot=" + hotSpotX + "," + hotSpotY
                + ", " + data.length + " bytes]";
    }
}
