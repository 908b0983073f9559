package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** Pipeline decoder for host → guest bytes, for guest-side agents: emits {@link HostMessage}s. */
public final class HostMessageDecoder extends ChannelInboundHandlerAdapter {

    private final HostStreamParser parser;

    public HostMessageDecoder(StreamLimits limits) {
        this.parser = new HostStreamParser(limits);
    }

    public HostMessageDecoder() {
        this(StreamLimits.DEFAULT);
    }

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
