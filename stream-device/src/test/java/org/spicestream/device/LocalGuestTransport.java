package org.spicestream.device;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.concurrent.EventExecutor;
import org.spicestream.device.spi.GuestChannelHandler;
import org.spicestream.device.spi.GuestPortHandler;
import org.spicestream.device.spi.GuestTransport;

/**
 * A tiny listening transport over Netty's in-VM {@link io.netty.channel.local.LocalChannel}s, for testing the
 * char device without a socket module (which would be a dependency cycle). One guest at a time.
 */
final class LocalGuestTransport implements GuestTransport {

    /** User-defined writability index the tests use to make the guest "stop reading". */
    private static final int GUEST_BUSY_INDEX = 1;

    private final EventLoop loop;
    private final LocalAddress address;
    private GuestPortHandler handler;
    private Channel server;
    private volatile Channel guest;
    private volatile boolean closed;
    private boolean paused;

    LocalGuestTransport(EventLoopGroup group, String name) {
        this.loop = group.next();
        this.address = new LocalAddress(name + "-" + System.nanoTime());
    }

    LocalAddress address() {
        return address;
    }

    @Override
    public void start(GuestPortHandler handler) {
        this.handler = handler;
        server = new ServerBootstrap()
                .group(loop)
                .channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (guest != null || closed) {
                            ch.close();
                            return;
                        }
                        guest = ch;
                        ch.closeFuture().addListener(f -> {
                            if (guest == ch) {
                                guest = null;
                            }
                        });
                        ch.pipeline().addLast(new GuestChannelHandler(handler, "local", paused));
                    }
                })
                .bind(address)
                .syncUninterruptibly()
                .channel();
    }

    @Override
    public EventExecutor executor() {
        return loop;
    }

    @Override
    public boolean write(ByteBuf data) {
        Channel ch = guest;
        if (closed || ch == null || !ch.isActive()) {
            data.release();
            return false;
        }
        ch.writeAndFlush(data);
        return true;
    }

    @Override
    public void setReadingPaused(boolean paused) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> setReadingPaused(paused));
            return;
        }
        this.paused = paused;
        Channel ch = guest;
        if (ch != null) {
            ch.pipeline().get(GuestChannelHandler.class).setPaused(paused);
        }
    }

    /** Makes the current guest connection report itself (not) writable, as a guest that stops reading would. */
    void setGuestBusy(boolean busy) throws Exception {
        loop.submit(() -> {
            ChannelOutboundBuffer out = guest.unsafe().outboundBuffer();
            out.setUserDefinedWritability(GUEST_BUSY_INDEX, !busy);
        }).get();
    }

    @Override
    public void disconnectGuest() {
        loop.execute(() -> {
            Channel ch = guest;
            if (ch != null) {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        loop.submit(() -> {
            if (server != null) {
                server.close();
            }
            Channel ch = guest;
            if (ch != null) {
                ch.close();
            }
        }).syncUninterruptibly();
    }

    @Override
    public String describe() {
        return "local " + address;
    }
}
