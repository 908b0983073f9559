package org.spicestream.reds;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/** Binding TCP listeners and building TLS contexts, shared by servers and front doors. */
final class Listeners {
    private Listeners() {}

    /** Binds {@code address} on {@code group}; every accepted connection goes to {@code accept}. */
    static Channel bind(EventLoopGroup group, InetSocketAddress address, Consumer<SocketChannel> accept) {
        Class<? extends ServerChannel> channelClass =
                useEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accept.accept(ch);
                    }
                });
        try {
            return b.bind(address).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + address, e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    static SslContext sslContext(TlsConfig tls) {
        try {
            SslContextBuilder b = SslContextBuilder.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile())
                    .sslProvider(SslProvider.JDK);
            if (tls.clientCa() != null) {
                b.trustManager(tls.clientCa().toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            return b.build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot load TLS certificate " + tls.certificateChain() + " / key "
                    + tls.privateKey() + (tls.clientCa() == null ? "" : " / CA " + tls.clientCa()) + ": " + e.getMessage(), e);
        }
    }

    private static boolean useEpoll(EventLoopGroup group) {
        if (!Epoll.isAvailable()) {
            return false;
        }
        return group instanceof IoEventLoopGroup iog && iog.isIoType(EpollIoHandler.class);
    }
}
