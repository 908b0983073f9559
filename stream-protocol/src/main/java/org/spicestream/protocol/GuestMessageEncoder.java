package org.spicestream.protocol;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;

/** Pipeline encoder for guest → host messages, for guest-side agents; DATA payloads are not copied. */
@Sharable
public final class GuestMessageEncoder extends MessageToMessageEncoder<GuestMessage> {

    public GuestMessageEncoder() {
        super(GuestMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, GuestMessage msg, List<Object> out) {
        // MessageToMessageEncoder releases msg afterwards; Wire.encode retained the DATA payload it kept.
        out.add(Wire.encode(msg, ctx.alloc()));
    }
}
