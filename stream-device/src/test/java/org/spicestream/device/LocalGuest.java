package org.spicestream.device;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import java.nio.charset.StandardCharsets;

/** The guest end of a {@link LocalGuestTransport}: sends ASCII, collects what the host writes. */
final class LocalGuest {

    private final Channel channel;
    private final StringBuilder received = new StringBuilder();

    private LocalGuest(Channel channel) {
        this.channel = channel;
    }

    static LocalGuest connect(EventLoopGroup group, LocalAddress address) {
        LocalGuest[] self = new LocalGuest[1];
        Channel ch = new Bootstrap()
                .group(group)
                .channel(LocalChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf buf = (ByteBuf) msg;
                        try {
                            synchronized (self[0].received) {
                                self[0].received.append(buf.toString(StandardCharsets.ISO_8859_1));
                            }
                        } finally {
                            buf.release();
                        }
                    }
                })
                .register()
                .syncUninterruptibly()
                .channel();
        self[0] = new LocalGuest(ch);
        ch.connect(address).syncUninterruptibly();
        return self[0];
    }

    void send(String ascii) {
        channel.writeAndFlush(Unpooled.copiedBuffer(ascii, StandardCharsets.ISO_8859_1)).syncUninterruptibly();
    }

    String received() {
        synchronized (received) {
            return received.toString();
        }
    }

    boolean isClosed() {
        return !channel.isOpen();
    }

    void close() {
        channel.close().syncUninterruptibly();
    }
}
