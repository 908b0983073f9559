package org.spicestream.transport.socket;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.TransportTestKit;

/** The transport test kit against {@code unix:/path}: the transport connects to a guest-side listener. */
class UnixConnectTransportTest extends TransportTestKit {

    @Override
    protected TransportProvider provider() {
        return new UnixTransportProvider(TestDelays.INITIAL, TestDelays.MAX);
    }

    @Override
    protected EventLoopGroup newEventLoopGroup() {
        return SocketEventLoops.newGroup(1);
    }

    @Override
    protected GuestSide newGuestSide() throws IOException {
        Path path = tempDir.resolve("guest.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return new GuestSide() {
            @Override
            public URI uri() {
                return unixUri(path, null);
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

    static URI unixUri(Path path, String query) {
        try {
            return new URI("unix", null, path.toString(), query, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
