package org.spicestream.transport.socket;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.TransportTestKit;

/** The transport test kit against {@code unix:/path?listen}: the guest side connects to the transport. */
class UnixListenTransportTest extends TransportTestKit {

    @Override
    protected TransportProvider provider() {
        return new UnixTransportProvider(TestDelays.INITIAL, TestDelays.MAX);
    }

    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return SocketEventLoops.newGroup(1);
    }

    @Override
    protected GuestSide newGuestSide() {
        Path path = tempDir.resolve("host.sock");
        return new GuestSide() {
            @Override
            public URI uri() {
                return UnixConnectTransportTest.unixUri(path, "listen");
            }

            @Override
            public GuestEndpoint openGuest(GuestTransport transport) throws IOException {
                return GuestEndpoint.connect(UnixDomainSocketAddress.of(path));
            }

            @Override
            public void close() {}
        };
    }
}
