package org.spicestream.reds.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** Encodes the server's side of the link stage (spice-wire §3.4, §3.5). */
public final class LinkCodec {
    private LinkCodec() {}

    /** SpiceLinkHeader + SpiceLinkReply(OK) + caps. */
    public static ByteBuf reply(ByteBufAllocator alloc, byte[] pubKey, int[] commonCaps, int[] channelCaps) {
        if (pubKey.length != Wire.PUB_KEY_SIZE) {
            throw new IllegalArgumentException("public key must be " + Wire.PUB_KEY_SIZE + " bytes");
        }
        int size = Wire.LINK_REPLY_SIZE + 4 * (commonCaps.length + channelCaps.length);
        ByteBuf b = alloc.buffer(Wire.LINK_HEADER_SIZE + size);
        writeHeader(b, size);
        b.writeIntLE(0);
        b.writeBytes(pubKey);
        b.writeIntLE(commonCaps.length);
        b.writeIntLE(channelCaps.length);
        b.writeIntLE(Wire.LINK_REPLY_SIZE);
        for (int w : commonCaps) {
            b.writeIntLE(w);
        }
        for (int w : channelCaps) {
            b.writeIntLE(w);
        }
        return b;
    }

    /** A link error before the reply: full header + 178-byte reply with only {@code error} set. */
    public static ByteBuf error(ByteBufAllocator alloc, int linkError) {
        ByteBuf b = alloc.buffer(Wire.LINK_HEADER_SIZE + Wire.LINK_REPLY_SIZE);
        writeHeader(b, Wire.LINK_REPLY_SIZE);
        b.writeIntLE(linkError);
        b.writeZero(Wire.LINK_REPLY_SIZE - 4);
        return b;
    }

    /** The bare u32 link result after authentication. */
    public static ByteBuf result(ByteBufAllocator alloc, int linkError) {
        return alloc.buffer(Wire.LINK_RESULT_SIZE).writeIntLE(linkError);
    }

    private static void writeHeader(ByteBuf b, int size) {
        b.writeIntLE(Wire.LINK_MAGIC);
        b.writeIntLE(Wire.VERSION_MAJOR);
        b.writeIntLE(Wire.VERSION_MINOR);
        b.writeIntLE(size);
    }
}
