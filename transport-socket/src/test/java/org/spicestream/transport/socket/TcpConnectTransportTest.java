package org.spicestream.transport.socket;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.ServerSocketChannel;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.TransportTestKit;

/** The transport test kit against {@code tcp://host:port}: the transport connects to a guest-side listener. */
class TcpConnectTransportTest extends TransportTestKit {

    @Override
    protected TransportProvider provider() {
        return new TcpTransportProvider(TestDelays.INITIAL, TestDelays.MAX);
    }

    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return SocketEventLoops.newGroup(1);
    }

    @Override
    protected GuestSide newGuestSide() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        return new GuestSide() {
            @Override
            public URI uri() {
                return URI.create("tcp://127.0.0.1:" + port);
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
            }
        };
    }
}
