package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Encoding of single messages, for code that writes without a Netty pipeline. */
public final class StreamMessages {

    private StreamMessages() {}

    /**
     * The wire bytes of {@code message}: header and payload. The caller still owns {@code message}; a DATA
     * payload is retained into the result, not copied.
     */
    public static ByteBuf encode(StreamMessage message, ByteBufAllocator alloc) {
        return Wire.encode(message, alloc);
    }
}
