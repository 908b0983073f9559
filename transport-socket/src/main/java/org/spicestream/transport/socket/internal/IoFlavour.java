package org.spicestream.transport.socket.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/** The channel classes and addresses that match the I/O type of the event loop group we were given. */
public enum IoFlavour {
    EPOLL {
        @Override
        public Class<? extends Channel> channel(boolean unix) {
            return unix ? EpollDomainSocketChannel.class : EpollSocketChannel.class;
        }

        @Override
        public Class<? extends ServerChannel> serverChannel(boolean unix) {
            return unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class;
        }

        @Override
        public SocketAddress address(SocketEndpoint e) {
            return e.unix() ? new DomainSocketAddress(e.path()) : new InetSocketAddress(e.host(), e.port());
        }
    },
    NIO {
        @Override
        public Class<? extends Channel> channel(boolean unix) {
            return unix ? NioDomainSocketChannel.class : NioSocketChannel.class;
        }

        @Override
        public Class<? extends ServerChannel> serverChannel(boolean unix) {
            return unix ? NioServerDomainSocketChannel.class : NioServerSocketChannel.class;
        }

        @Override
        public SocketAddress address(SocketEndpoint e) {
            return e.unix() ? UnixDomainSocketAddress.of(e.path()) : new InetSocketAddress(e.host(), e.port());
        }
    };

    public abstract Class<? extends Channel> channel(boolean unix);

    public abstract Class<? extends ServerChannel> serverChannel(boolean unix);

    public abstract SocketAddress address(SocketEndpoint e);

    /** The flavour of {@code group}'s I/O handler; epoll and NIO groups are supported. */
    public static IoFlavour of(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io) {
            if (io.isIoType(EpollIoHandler.class)) {
                return EPOLL;
            }
            if (io.isIoType(NioIoHandler.class)) {
                return NIO;
            }
        }
        throw new IllegalArgumentException("the socket transport needs an epoll or NIO MultiThreadIoEventLoopGroup, got "
                + group.getClass().getName());
    }
}
