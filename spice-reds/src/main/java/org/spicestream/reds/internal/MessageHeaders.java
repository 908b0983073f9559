package org.spicestream.reds.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The data header in front of each server message (spice-wire §3): the mini header when the client has
 * MINI_HEADER, else the full header with a serial counting from 1. Event-loop confined.
 */
public final class MessageHeaders {

    private final boolean mini;
    private long serial;

    public MessageHeaders(boolean mini) {
        this.mini = mini;
    }

    /** True for the mini header. */
    public boolean mini() {
        return mini;
    }

    /** Bytes of one header. */
    public int size() {
        return mini ? Wire.MINI_HEADER_SIZE : Wire.FULL_HEADER_SIZE;
    }

    /** A new buffer with the header of the next message. */
    public ByteBuf next(ByteBufAllocator alloc, int type, int bodySize) {
        ByteBuf header = alloc.buffer(size());
        if (mini) {
            CommonMessages.writeMiniHeader(header, type, bodySize);
        } else {
            CommonMessages.writeFullHeader(header, ++serial, type, bodySize);
        }
        return header;
    }
}
