package org.spicestream.transport.socket;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

/** The kit for {@code tcp://} connect on the NIO fallback instead of native epoll. */
class NioTcpConnectTransportTest extends TcpConnectTransportTest {
    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }
}
