package org.spicestream.protocol;

/** CURSOR_MOVE: the cursor hot spot moved to (x, y) in stream pixels (signed 32-bit). */
public record CursorMove(int x, int y) implements GuestMessage {

    @Override
    public int type() {
        return MessageType.CURSOR_MOVE;
    }
}
