package org.spicestream.cursor.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Bodies of the cursor-channel messages (spice-wire §10.1, cursor layout §7.4), little endian.
 * Each encoder returns a fresh body owned by the caller.
 */
public final class CursorMessages {

    public static final int MSG_INIT = 101;
    public static final int MSG_RESET = 102;
    public static final int MSG_SET = 103;
    public static final int MSG_MOVE = 104;
    public static final int MSG_HIDE = 105;

    /** Cursor flag: no cursor (no header, no data). */
    public static final int CURSOR_FLAG_NONE = 0x1;

    /** Size of the cursor header that follows the flags when the cursor is not NONE. */
    public static final int CURSOR_HEADER_SIZE = 17;

    private CursorMessages() {}

    /** CURSOR_INIT {position, trail 0/0, visible, cursor or NONE} (B42). */
    public static ByteBuf init(ByteBufAllocator alloc, int x, int y, boolean visible, CursorShape shape) {
        ByteBuf b = alloc.buffer(4 + 2 + 2 + 1 + cursorSize(shape));
        writePoint16(b, x, y);
        b.writeShortLE(0).writeShortLE(0); // trail length, trail frequency
        b.writeByte(visible ? 1 : 0);
        writeCursor(b, shape);
        return b;
    }

    /** CURSOR_SET {position, visible, cursor} (B40); {@code shape} must not be null (html5 crashes on NONE here). */
    public static ByteBuf set(ByteBufAllocator alloc, int x, int y, boolean visible, CursorShape shape) {
        if (shape == null) {
            throw new IllegalArgumentException("CURSOR_SET needs a shape: send HIDE to hide the cursor");
        }
        ByteBuf b = alloc.buffer(4 + 1 + cursorSize(shape));
        writePoint16(b, x, y);
        b.writeByte(visible ? 1 : 0);
        writeCursor(b, shape);
        return b;
    }

    /** CURSOR_MOVE {position}; coordinates are clamped to 16 bits by {@link #clamp16}. */
    public static ByteBuf move(ByteBufAllocator alloc, int x, int y) {
        ByteBuf b = alloc.buffer(4);
        writePoint16(b, x, y);
        return b;
    }

    /** R4: positions saturate to the i16 range instead of wrapping as the reference does. */
    public static int clamp16(long v) {
        return (int) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, v));
    }

    private static int cursorSize(CursorShape shape) {
        return shape == null ? 2 : 2 + CURSOR_HEADER_SIZE + shape.dataLength();
    }

    private static void writePoint16(ByteBuf b, int x, int y) {
        b.writeShortLE(clamp16(x)).writeShortLE(clamp16(y));
    }

    private static void writeCursor(ByteBuf b, CursorShape shape) {
        if (shape == null) {
            b.writeShortLE(CURSOR_FLAG_NONE);
            return;
        }
        b.writeShortLE(0); // flags: never cached (unique 0), as the reference
        b.writeLongLE(0); // unique
        b.writeByte(shape.type());
        b.writeShortLE(shape.width()).writeShortLE(shape.height());
        b.writeShortLE(shape.hotSpotX()).writeShortLE(shape.hotSpotY());
        shape.writeData(b);
    }
}
