package org.spicestream.protocol;

import java.util.Arrays;

/** CURSOR_SET: a cursor shape; {@code pixels} holds exactly the bytes its type needs (extra guest bytes dropped). */
public final class CursorSet implements GuestMessage {

    private final int width;
    private final int height;
    private final int hotSpotX;
    private final int hotSpotY;
    private final CursorType cursorType;
    private final byte[] pixels;

    private CursorSet(int width, int height, int hotSpotX, int hotSpotY, CursorType cursorType, byte[] pixels) {
        if (width < 0 || height < 0 || width > StreamLimits.CURSOR_MAX_DIMENSION
                || height > StreamLimits.CURSOR_MAX_DIMENSION) {
            throw new IllegalArgumentException("cursor size out of range: " + width + "x" + height);
        }
        if (hotSpotX < 0 || hotSpotX > 0xffff || hotSpotY < 0 || hotSpotY > 0xffff) {
            throw new IllegalArgumentException("hot spot out of range");
        }
        if (pixels.length != cursorType.requiredDataBytes(width, height)) {
            throw new IllegalArgumentException("a " + width + "x" + height + " " + cursorType + " cursor needs "
                    + cursorType.requiredDataBytes(width, height) + " data bytes, got " + pixels.length);
        }
        this.width = width;
        this.height = height;
        this.hotSpotX = hotSpotX;
        this.hotSpotY = hotSpotY;
        this.cursorType = cursorType;
        this.pixels = pixels;
    }

    /** A cursor shape; {@code pixels} is copied and must have exactly the required length. */
    public static CursorSet of(int width, int height, int hotSpotX, int hotSpotY, CursorType type, byte[] pixels) {
        return new CursorSet(width, height, hotSpotX, hotSpotY, type, pixels.clone());
    }

    static CursorSet wrap(int width, int height, int hotSpotX, int hotSpotY, CursorType type, byte[] pixels) {
        return new CursorSet(width, height, hotSpotX, hotSpotY, type, pixels);
    }

    @Override
    public int type() {
        return MessageType.CURSOR_SET;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public int hotSpotX() {
        return hotSpotX;
    }

    public int hotSpotY() {
        return hotSpotY;
    }

    public CursorType cursorType() {
        return cursorType;
    }

    /** A copy of the pixel data (and AND mask). */
    public byte[] pixels() {
        return pixels.clone();
    }

    public int pixelBytes() {
        return pixels.length;
    }

    /** Read access without a copy, for encoders. */
    public byte pixel(int index) {
        return pixels[index];
    }

    void writePixels(io.netty.buffer.ByteBuf out) {
        out.writeBytes(pixels);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CursorSet c && width == c.width && height == c.height && hotSpotX == c.hotSpotX
                && hotSpotY == c.hotSpotY && cursorType == c.cursorType && Arrays.equals(pixels, c.pixels);
    }

    @Override
    public int hashCode() {
        return ((width * 31 + height) * 31 + cursorType.hashCode()) * 31 + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "CursorSet[" + width + "x" + height + " hot=" + hotSpotX + "," + hotSpotY + " " + cursorType + "]";
    }
}
