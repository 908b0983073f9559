package org.spicestream.reds.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntUnaryOperator;
import org.spicestream.reds.SpiceProtocolException;

/**
 * Splits a linked connection's bytes into {@link InboundMessage}s (spice-wire §3: mini or full data header, then
 * the body). The size is checked against the type's limit as soon as the header is read, before any of the body is
 * buffered, so a client cannot make the server hold more than one message of the largest allowed size; a type
 * without a limit (unknown, or migration, which we never offer) is a {@link SpiceProtocolException}.
 */
public final class SpiceMessageDecoder extends ByteToMessageDecoder {

    private final boolean mini;
    private final int headerSize;
    private final IntUnaryOperator maxBodySize;
    private final BooleanSupplier discarding;

    /**
     * @param mini the connection uses the mini header
     * @param maxBodySize largest body accepted for a message type, negative for a type that is not accepted
     * @param discarding true once the connection is closing: what arrives then is skipped unread
     */
    public SpiceMessageDecoder(boolean mini, IntUnaryOperator maxBodySize, BooleanSupplier discarding) {
        this.mini = mini;
        this.headerSize = mini ? Wire.MINI_HEADER_SIZE : Wire.FULL_HEADER_SIZE;
        this.maxBodySize = maxBodySize;
        this.discarding = discarding;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // one message per call: the base class hands it on before the next is decoded
        if (discarding.getAsBoolean()) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < headerSize) {
            return;
        }
        int r = in.readerIndex();
        int type = in.getUnsignedShortLE(mini ? r : r + 8);
        long size = in.getUnsignedIntLE(mini ? r + 2 : r + 10);
        int max = maxBodySize.applyAsInt(type);
        if (max < 0) {
            throw new SpiceProtocolException("unknown or unexpected message type " + type);
        }
        if (size > max) {
            throw new SpiceProtocolException("message type " + type + " of " + size + " bytes exceeds the limit of " + max);
        }
        if (in.readableBytes() < headerSize + size) {
            return;
        }
        in.skipBytes(headerSize);
        out.add(new InboundMessage(type, in.readRetainedSlice((int) size)));
    }
}
