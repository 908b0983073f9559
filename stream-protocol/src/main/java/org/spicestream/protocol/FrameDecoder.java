package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The pipeline side shared by both decoders: feeds each read to a {@link FrameParser}, fires the messages, turns
 * the first violation into one exceptionCaught event and releases the read.
 */
abstract sealed class FrameDecoder extends ChannelInboundHandlerAdapter permits GuestMessageDecoder, HostMessageDecoder {

    private final FrameParser<?> parser;

    FrameDecoder(FrameParser<?> parser) {
        this.parser = parser;
    }

    /** Leave the failed state and forget any partial message. */
    public final void reset() {
        parser.reset();
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
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
    public final void handlerRemoved(ChannelHandlerContext ctx) {
        parser.reset();
    }
}
