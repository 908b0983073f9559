package org.spicestream.transport.virtio;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;

/** The kit again on a NIO event loop group (JDK Unix domain sockets), the fallback where epoll is missing. */
class NioVirtioTransportKitTest extends VirtioTransportKitTest {

    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }
}
