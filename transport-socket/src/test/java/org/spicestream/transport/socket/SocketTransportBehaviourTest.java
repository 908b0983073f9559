package org.spicestream.transport.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.RecordingPortHandler;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.transport.socket.internal.SocketEndpoint;

/** Socket-specific behaviour: one guest at a time, reconnect back-off, socket files, URI checks. */
class SocketTransportBehaviourTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path tempDir;

    private EventLoopGroup group;
    private SocketGuestTransport transport;

    @BeforeEach
    void setUp() {
        group = SocketEventLoops.newGroup(1);
    }

    @AfterEach
    void tearDown() {
        if (transport != null) {
            transport.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void secondGuestConnectionIsRefusedAndTheFirstKeepsWorking() throws IOException {
        transport = new TcpTransportProvider().create(URI.create("tcp://127.0.0.1:0?listen"),
                TransportContext.of(group, "refusal"));
        RecordingPortHandler port = new RecordingPortHandler(transport);
        transport.start(port);

        try (GuestEndpoint first = GuestEndpoint.connect(transport.localAddress())) {
            await().atMost(TIMEOUT).until(() -> port.openCount() == 1);

            try (GuestEndpoint second = GuestEndpoint.connect(transport.localAddress())) {
                second.awaitClosedByPeer(TIMEOUT);
            }
            assertThat(transport.refusedConnections()).isEqualTo(1);

            first.write(new byte[] {1, 2, 3}, TIMEOUT);
            await().atMost(TIMEOUT).until(() -> port.received() == 3);
            assertThat(port.events()).containsExactly("open");
        }
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);

        // Once the first guest is gone, a new one is accepted.
        try (GuestEndpoint third = GuestEndpoint.connect(transport.localAddress())) {
            await().atMost(TIMEOUT).until(() -> port.openCount() == 2);
            assertThat(third.channel().isConnected()).isTrue();
        }
        assertThat(port.violations()).isEmpty();
    }

    @Test
    void reconnectBacksOffExponentiallyUpToTheMaximumAndConnectsWhenTheGuestAppears() throws IOException {
        Path path = tempDir.resolve("late.sock");
        Duration initial = Duration.ofMillis(10);
        Duration max = Duration.ofMillis(80);
        transport = new UnixTransportProvider(initial, max).create(UnixConnectTransportTest.unixUri(path, null),
                TransportContext.of(group, "backoff"));
        RecordingPortHandler port = new RecordingPortHandler(transport);
        transport.start(port);

        // 10 + 20 + 40 + 80 + 80 ms: after five failures the delay is capped.
        await().atMost(TIMEOUT).until(() -> transport.connectAttempts() >= 6);
        assertThat(transport.backoff().peek()).isEqualTo(max);
        assertThat(port.openCount()).isZero();

        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            try (GuestEndpoint guest = GuestEndpoint.accept(server, TIMEOUT)) {
                await().atMost(TIMEOUT).until(() -> port.openCount() == 1);
                assertThat(guest.channel().isConnected()).isTrue();
                // A successful connection starts the back-off over.
                assertThat(transport.backoff().peek()).isEqualTo(initial);
            }
        }
        assertThat(port.violations()).isEmpty();
    }

    @Test
    void connectingTransportReconnectsAfterTheGuestSideRestarts() throws IOException {
        Path path = tempDir.resolve("restart.sock");
        transport = new UnixTransportProvider(Duration.ofMillis(10), Duration.ofMillis(40))
                .create(UnixConnectTransportTest.unixUri(path, null), TransportContext.of(group, "restart"));
        RecordingPortHandler port = new RecordingPortHandler(transport);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        transport.start(port);
        GuestEndpoint guest = GuestEndpoint.accept(server, TIMEOUT);
        await().atMost(TIMEOUT).until(() -> port.openCount() == 1);

        // The guest side goes away entirely (like QEMU exiting): listener and connection.
        server.close();
        Files.deleteIfExists(path);
        guest.close();
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        long attempts = transport.connectAttempts();
        await().atMost(TIMEOUT).until(() -> transport.connectAttempts() > attempts + 2);

        try (ServerSocketChannel again = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            again.bind(UnixDomainSocketAddress.of(path));
            try (GuestEndpoint second = GuestEndpoint.accept(again, TIMEOUT)) {
                await().atMost(TIMEOUT).until(() -> port.openCount() == 2);
                second.write(new byte[] {42}, TIMEOUT);
                await().atMost(TIMEOUT).until(() -> port.received() == 1);
            }
        }
        assertThat(port.events().subList(0, 3)).containsExactly("open", "close", "open");
    }

    @Test
    void staleUnixSocketFileIsReplacedWhenListening() throws IOException {
        Path path = tempDir.resolve("stale.sock");
        // A socket file nobody listens on, as left behind by a crash.
        ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        stale.bind(UnixDomainSocketAddress.of(path));
        // Closing a JDK Unix server socket leaves its file in place.
        stale.close();
        assertThat(Files.exists(path)).isTrue();

        transport = new UnixTransportProvider().create(UnixConnectTransportTest.unixUri(path, "listen"),
                TransportContext.of(group, "stale"));
        RecordingPortHandler port = new RecordingPortHandler(transport);
        transport.start(port);

        try (GuestEndpoint guest = GuestEndpoint.connect(UnixDomainSocketAddress.of(path))) {
            await().atMost(TIMEOUT).until(() -> port.openCount() == 1);
            guest.write(new byte[] {7}, TIMEOUT);
            await().atMost(TIMEOUT).until(() -> port.received() == 1);
        }
    }

    @Test
    void listeningOnAPathHeldByALiveListenerFailsClearly() throws IOException {
        Path path = tempDir.resolve("busy.sock");
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(path));
            transport = new UnixTransportProvider().create(UnixConnectTransportTest.unixUri(path, "listen"),
                    TransportContext.of(group, "busy"));
            RecordingPortHandler port = new RecordingPortHandler(transport);

            assertThatThrownBy(() -> transport.start(port))
                    .isInstanceOf(UncheckedIOException.class)
                    .hasMessageContaining("another process is listening on " + path);
        }
    }

    @Test
    void listeningOnARegularFileIsRefused() throws IOException {
        Path path = Files.createFile(tempDir.resolve("file"));
        transport = new UnixTransportProvider().create(UnixConnectTransportTest.unixUri(path, "listen"),
                TransportContext.of(group, "file"));

        assertThatThrownBy(() -> transport.start(new RecordingPortHandler(transport)))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("is not a socket");
        assertThat(Files.exists(path)).isTrue();
    }

    @Test
    void uriParsing() {
        assertThat(SocketEndpoint.parse(URI.create("tcp://127.0.0.1:5900")))
                .isEqualTo(new SocketEndpoint(false, "127.0.0.1", 5900, null, false));
        assertThat(SocketEndpoint.parse(URI.create("tcp://[::1]:5900?listen")))
                .isEqualTo(new SocketEndpoint(false, "::1", 5900, null, true));
        assertThat(SocketEndpoint.parse(URI.create("unix:/run/a.sock?listen")))
                .isEqualTo(new SocketEndpoint(true, null, -1, "/run/a.sock", true));
        assertThat(SocketEndpoint.parse(URI.create("unix:///run/a.sock")).path()).isEqualTo("/run/a.sock");

        assertBad("tcp://host", "a port is required");
        assertBad("tcp://host:0", "port 0 is only allowed with ?listen");
        assertBad("tcp://host:1/path", "no path");
        assertBad("tcp://host:1?listen&fast", "unknown parameter 'fast'");
        assertBad("unix:relative.sock", "an absolute path is required");
        assertBad("unix://host/a.sock", "a host is not allowed");
        assertBad("unix:/" + "x".repeat(SocketEndpoint.MAX_UNIX_PATH_BYTES), "at most 107");
        assertThat(SocketEndpoint.parse(URI.create("unix:/" + "x".repeat(SocketEndpoint.MAX_UNIX_PATH_BYTES - 1))))
                .isNotNull();
    }

    @Test
    void providerRejectsTheOtherScheme() {
        assertThatThrownBy(() -> new TcpTransportProvider().create(URI.create("unix:/a.sock"),
                        TransportContext.of(group, "x")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertBad(String uri, String message) {
        assertThatThrownBy(() -> SocketEndpoint.parse(URI.create(uri)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
