package org.spicestream.transport.socket;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.URI;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.TransportTestKit;

/** The transport test kit against {@code tcp://host:port?listen}: the guest side connects to the transport. */
class TcpListenTransportTest extends TransportTestKit {

    @Override
    protected TransportProvider provider() {
        return new TcpTransportProvider(TestDelays.INITIAL, TestDelays.MAX);
    }

    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return SocketEventLoops.newGroup(1);
    }

    @Override
    protected GuestSide newGuestSide() {
        return new GuestSide() {
            @Override
            public URI uri() {
                return URI.create("tcp://127.0.0.1:0?listen");
            }

            @Override
            public GuestEndpoint openGuest(GuestTransport transport) throws IOException {
                return GuestEndpoint.connect(((SocketGuestTransport) transport).localAddress());
            }

            @Override
            public void close() {}
        };
    }
}
