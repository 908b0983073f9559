package org.spicestream.transport.socket;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;

/** Creates an event loop group the socket transport can use: native epoll when available, NIO otherwise. */
public final class SocketEventLoops {

    private SocketEventLoops() {}

    /** The preferred I/O handler factory on this platform. */
    public static IoHandlerFactory preferredIoHandlerFactory() {
        return Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** A new group of {@code threads} loops with the preferred I/O handler. */
    public static MultiThreadIoEventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, preferredIoHandlerFactory());
    }
}
