package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestChannel;

/** One listener in front of two servers: REDQ, HTTP CONNECT and WebSocket paths reach the server the router names. */
class FrontDoorTest {

    private EventLoopGroup group;
    private ExecutorService keys;
    private SpiceServer a;
    private SpiceServer b;
    private FrontDoor door;

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        keys = SpiceServer.newKeyExecutor();
        ServerConfig behind = ServerConfig.DEFAULT.withListen(ListenConfig.NONE);
        a = SpiceServer.start(behind.withAuth(AuthConfig.TICKETING_DISABLED), group, keys);
        b = SpiceServer.start(behind.withAuth(AuthConfig.password("pw-b")), group, keys);
        b.channels().register(new TestChannel(SpiceChannelType.DISPLAY, true, 1024, 1));
        FrontDoor.Router router = new FrontDoor.Router() {
            @Override
            public FrontDoor.Route spice() {
                return FrontDoor.Route.to(a);
            }

            @Override
            public FrontDoor.Route connect(String host, int port) {
                return switch (host) {
                    case "vm-a" -> FrontDoor.Route.to(a);
                    case "vm-b" -> FrontDoor.Route.to(b);
                    case "signed-b" -> new FrontDoor.Route(b, true);
                    default -> null;
                };
            }

            @Override
            public FrontDoor.Route webSocket(String path) {
                return switch (path) {
                    case "/vms/vm-b" -> FrontDoor.Route.to(b);
                    case "/" -> FrontDoor.Route.to(a);
                    default -> null;
                };
            }
        };
        door = FrontDoor.start(new FrontDoor.Config(ListenConfig.of("127.0.0.1", 0),
                LinkConfig.DEFAULT.withTimeout(Duration.ofSeconds(2)), WebConfig.DEFAULT), router, group);
    }

    @AfterEach
    void stop() {
        door.close();
        a.close();
        b.close();
        keys.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private InetSocketAddress addr() {
        return door.localAddress();
    }

    @Test
    void aPlainLinkGoesToTheDefaultServer() {
        assertThat(a.localAddress()).isNull();
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "")) {
            assertThat(main.linkResult()).isZero();
            assertThat(main.next(SpiceMessages.MSG_MAIN_INIT)).isNotNull();
            assertThat(a.sessions()).hasSize(1);
            assertThat(b.sessions()).isEmpty();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> door.pendingConnections() == 0 && a.linkingConnections() == 0);
    }

    @Test
    void connectTunnelsCarryTheNamedServersLinksWithItsPassword() {
        SpiceTestClient.Options viaB = SpiceTestClient.options().httpConnect("vm-b:5900").password("pw-b");
        try (SpiceTestClient main = SpiceTestClient.connect(addr(), viaB);
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
            assertThat(main.linkResult()).isZero();
            assertThat(display.linkResult()).isZero();
            assertThat(b.sessions()).hasSize(1);
            assertThat(a.sessions()).isEmpty();
        }
        try (SpiceTestClient wrong = SpiceTestClient.connect(addr(),
                SpiceTestClient.options().httpConnect("vm-b:5900").password("pw-a"))) {
            assertThat(wrong.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
        }
        // a route the router marks as authenticated needs no password
        try (SpiceTestClient signed = SpiceTestClient.connect(addr(),
                SpiceTestClient.options().httpConnect("SIGNED-B:1").password("anything"))) {
            assertThat(signed.linkResult()).isZero();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> door.pendingConnections() == 0 && b.linkingConnections() == 0);
    }

    @Test
    void connectAnswersHttpErrorsForUnknownNamesAndBadRequests() throws IOException {
        assertThat(exchange("CONNECT nobody:5900 HTTP/1.1\r\nHost: nobody:5900\r\n\r\n"))
                .startsWith("HTTP/1.1 404 Not Found");
        assertThat(exchange("CONNECT nobody:5900 HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.0 404 Not Found");
        assertThat(exchange("CONNECT vm-b HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400 Bad Request");
        assertThat(exchange("CONNECT vm-b:5900 HTTP/1.1\r\nX: " + "x".repeat(20_000) + "\r\n\r\n"))
                .startsWith("HTTP/1.1 431");
        assertThatThrownBy(() -> SpiceTestClient.connect(addr(), SpiceTestClient.options().httpConnect("gone:1")))
                .hasMessageContaining("404");
        await().atMost(Duration.ofSeconds(5)).until(() -> door.pendingConnections() == 0);
    }

    @Test
    void aWebSocketPathNamesTheServer() {
        try (SpiceTestClient main = SpiceTestClient.connect(addr(),
                SpiceTestClient.options().webSocket("/vms/vm-b").password("pw-b"))) {
            assertThat(main.linkResult()).isZero();
            assertThat(b.sessions()).hasSize(1);
        }
        try (SpiceTestClient main = SpiceTestClient.connect(addr(), SpiceTestClient.options().webSocket("/"))) {
            assertThat(main.linkResult()).isZero();
            assertThat(a.sessions()).hasSize(1);
        }
        assertThatThrownBy(() -> SpiceTestClient.connect(addr(), SpiceTestClient.options().webSocket("/vms/none")))
                .isInstanceOf(RuntimeException.class);
    }

    @Test
    void aClosedServerRefusesWhatIsRoutedToItAndUnroutedConnectionsTimeOut() throws IOException {
        b.close();
        try (SpiceTestClient c = SpiceTestClient.connect(addr(), SpiceTestClient.options().httpConnect("vm-b:5900"))) {
            assertThat(c.linkResult()).isEqualTo(-1);
        }
        try (Socket silent = new Socket(addr().getAddress(), addr().getPort())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> door.pendingConnections() == 1);
            silent.setSoTimeout(10_000);
            assertThat(silent.getInputStream().read()).isEqualTo(-1); // closed after the 2 s routing timeout
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> door.pendingConnections() == 0);
    }

    private String exchange(String request) throws IOException {
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            int n;
            try {
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketException reset) {
                // a reset after the answer (we sent more than was read) ends the exchange too
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
