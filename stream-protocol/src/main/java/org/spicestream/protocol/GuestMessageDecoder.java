package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Pipeline decoder for guest → host bytes: emits {@link GuestMessage}s. After a violation it fires one
 * {@link StreamProtocolException} and discards input until {@link #reset()} (B10).
 */
public final class GuestMessageDecoder extends ChannelInboundHandlerAdapter {

    private final GuestStreamParser parser;

    public GuestMessageDecoder(StreamLimits limits) {
        this.parser = new GuestStreamParser(limits);
    }

    public GuestMessageDecoder() {
        this(StreamLimits.DEFAULT);
    }

    /** The parser state (limits, failure, buffered bytes, QUALITY_INDICATOR permission). */
    public GuestStreamParser parser() {
        return parser;
    }

    /** Leave the failed state and forget any partial message. */
    public void reset() {
        parser.reset();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            parser.parse(in, ctx::fireChannelRead);
        } catch (StreamProtocolException e) {
            ctx.fireExceptionCaught(e);
        } finally {
            in.release();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        parser.reset();
    }
}
