package org.spicestream.protocol;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/** Pipeline encoder for host → guest messages. */
@Sharable
public final class HostMessageEncoder extends MessageToMessageEncoder<HostMessage> {

    public HostMessageEncoder() {
        super(HostMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, HostMessage msg, List<Object> out) {
        out.add(Wire.encode(msg, ctx.alloc()));
    }
}
