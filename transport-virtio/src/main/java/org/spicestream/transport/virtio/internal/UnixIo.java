package org.spicestream.transport.virtio.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/** Unix-socket client channel class and address matching the I/O type of the event loop group we were given. */
public enum UnixIo {
    EPOLL {
        @Override
        public Class<? extends Channel> channel() {
            return EpollDomainSocketChannel.class;
        }

        @Override
        public SocketAddress address(Path path) {
            return new DomainSocketAddress(path.toString());
        }
    },
    NIO {
        @Override
        public Class<? extends Channel> channel() {
            return NioDomainSocketChannel.class;
        }

        @Override
        public SocketAddress address(Path path) {
            return UnixDomainSocketAddress.of(path);
        }
    };

    public abstract Class<? extends Channel> channel();

    public abstract SocketAddress address(Path path);

    /** The flavour of {@code group}'s I/O handler; epoll and NIO groups are supported. */
    public static UnixIo of(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io) {
            if (io.isIoType(EpollIoHandler.class)) {
                return EPOLL;
            }
            if (io.isIoType(NioIoHandler.class)) {
                return NIO;
            }
        }
        throw new IllegalArgumentException("the virtio transport needs an epoll or NIO MultiThreadIoEventLoopGroup, got "
                + group.getClass().getName());
    }
}
