package org.spicestream.transport.virtio;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.TransportTestKit;

/**
 * The transport test kit against {@code virtio:/path} without QMP: the test plays QEMU's {@code -chardev
 * socket,server=on} with a real Unix socket server, and each accepted connection is a guest opening the port.
 */
class VirtioTransportKitTest extends TransportTestKit {

    /** Short reconnect delays so that reconnect-heavy tests run fast. */
    static final Duration INITIAL = Duration.ofMillis(10);
    static final Duration MAX = Duration.ofMillis(160);

    @Override
    protected TransportProvider provider() {
        return new VirtioTransportProvider(INITIAL, MAX);
    }

    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @Override
    protected GuestSide newGuestSide() throws IOException {
        Path path = tempDir.resolve("chardev.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return new GuestSide() {
            @Override
            public URI uri() {
                return URI.create("virtio:" + path);
            }

            @Override
            public GuestEndpoint openGuest(GuestTransport transport) throws IOException {
                return GuestEndpoint.accept(server, TIMEOUT);
            }

            @Override
            public void stopAccepting() throws IOException {
                server.close();
            }

            @Override
            public void close() throws IOException {
                server.close();
                Files.deleteIfExists(path);
            }
        };
    }
}
