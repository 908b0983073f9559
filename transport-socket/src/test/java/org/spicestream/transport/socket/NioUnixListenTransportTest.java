package org.spicestream.transport.socket;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

/** The kit for {@code unix:?listen} on the NIO fallback ({@code NioServerDomainSocketChannel}). */
class NioUnixListenTransportTest extends UnixListenTransportTest {
    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }
}
