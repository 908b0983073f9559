package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestChannel;

/** WebSocket and static files on the SPICE port (spice-wire §2, B44 "try WebSocket"), with their bounds. */
class WebTransportTest {
    private static final String WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String SECRET = "top secret, outside the web root";
    private static final ClasspathWebContent BUILT_IN =
            new ClasspathWebContent(WebTransportTest.class.getClassLoader(), "org/spicestream/reds/webcontent/");

    private SpiceServer server;

    @TempDir
    Path dir;

    private SpiceServer start(ServerConfig c) {
        server = SpiceServer.start(c.withListen(ListenConfig.of("127.0.0.1", 0)));
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private InetSocketAddress addr() {
        return server.localAddress();
    }

    @Test
    void mainAndDisplayLinkOverWebSocketAndReceiveMessages() throws Exception {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024, 1, 4, 12);
        server.channels().register(display);
        SpiceTestClient.Options ws = SpiceTestClient.options().webSocket("/");
        try (SpiceTestClient main = SpiceTestClient.connect(addr(), ws);
                SpiceTestClient dc = main.linkChannel(SpiceChannelType.DISPLAY, 0, 1, 4)) {
            assertThat(main.linkResult()).isZero();
            assertThat(main.linkReply().pubKey()).hasSize(162);
            assertThat(main.next(SpiceMessages.MSG_MAIN_INIT)).isNotNull();
            main.send(SpiceMessages.MSGC_MAIN_ATTACH_CHANNELS, new byte[0]);
            assertThat(main.next(SpiceMessages.MSG_MAIN_CHANNELS_LIST)).isNotNull();
            assertThat(dc.linkResult()).isZero();
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            assertThat(rcc).isNotNull();
            // a large message spans many server writes and arrives whole
            byte[] big = new byte[200_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31);
            }
            for (int i = 0; i < 30; i++) {
                assertThat(rcc.trySend(new OutgoingMessage(150, rcc.alloc().buffer(4).writeIntLE(i),
                        rcc.alloc().buffer(big.length).writeBytes(big)))).isTrue();
            }
            for (int i = 0; i < 30; i++) {
                SpiceTestClient.Message m = dc.next(150);
                assertThat(m.buf().getIntLE(0)).isEqualTo(i);
                assertThat(m.body()).hasSize(4 + big.length);
                assertThat(java.util.Arrays.copyOfRange(m.body(), 4, m.body().length)).isEqualTo(big);
            }
            // client → server through masked frames
            dc.send(120, new byte[] {9, 8, 7});
            TestChannel.Received r = display.received.poll(10, TimeUnit.SECONDS);
            assertThat(r.type()).isEqualTo(120);
            assertThat(r.body()).containsExactly(9, 8, 7);
        }
    }

    @Test
    void linkErrorsReachAWebSocketClientBeforeTheClose() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("right")));
        try (SpiceTestClient main = SpiceTestClient.connect(addr(), SpiceTestClient.options().webSocket("/").password("wrong"))) {
            assertThat(main.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
            assertThat(main.awaitClosed(Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void notHttpAndNotRedqStillGetsInvalidMagic() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        try (Socket s = new Socket("127.0.0.1", addr().getPort())) {
            s.getOutputStream().write("POST / HTTP/1.1\r\n\r\n0123456".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = readToEof(s);
            assertThat(reply).hasSize(16 + 178);
            assertThat(reply[16]).isEqualTo((byte) SpiceLinkError.INVALID_MAGIC);
        }
    }

    @Test
    void staticFilesAreServedWithContentTypes() throws IOException {
        Path root = webRoot();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withWebRoot(root)));
        String index = http("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(index).startsWith("HTTP/1.1 200 OK").contains("content-type: text/html; charset=utf-8").endsWith("<html>index</html>");
        String js = http("GET /spice.js?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(js).startsWith("HTTP/1.1 200 OK").contains("content-type: text/javascript").endsWith("export const a = 1;");
        String css = http("GET /sub/style.css HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(css).startsWith("HTTP/1.1 200 OK").contains("content-type: text/css").endsWith("body{}");
        String head = http("HEAD /spice.js HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(head).startsWith("HTTP/1.1 200 OK").contains("content-length: 19").doesNotContain("export");
        assertThat(http("GET /missing.js HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 404");
        assertThat(http("GET /sub HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 404");
        // the server is still a SPICE server
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "")) {
            assertThat(main.linkResult()).isZero();
        }
    }

    @Test
    void pathTraversalIsRefused() throws IOException {
        Path root = webRoot();
        Files.writeString(dir.resolve("secret.txt"), SECRET);
        Files.createSymbolicLink(root.resolve("link.txt"), dir.resolve("secret.txt"));
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withWebRoot(root)));
        for (String path : List.of("/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
                "/sub/%2e%2e/%2e%2e/secret.txt", "/..%5csecret.txt", "/link.txt", "/./spice.js", "/%00", "//etc/passwd",
                "/" + dir.resolve("secret.txt"))) {
            String resp = http("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(resp).as(path).doesNotContain(SECRET).doesNotStartWith("HTTP/1.1 200");
            assertThat(resp).as(path).matches("(?s)HTTP/1.1 (403|404|400).*");
        }
        assertThat(http("GET http://x/../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n")).doesNotContain(SECRET);
    }

    @Test
    void classpathContentIsServedAtTheRootAndBelowAVmPrefix() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withWebContent(BUILT_IN)));
        String index = http("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(index).startsWith("HTTP/1.1 200 OK").contains("content-type: text/html; charset=utf-8")
                .contains("content-security-policy: default-src 'self'").endsWith("<html>built-in</html>");
        assertThat(http("GET /js/app.js?v=1 HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200 OK")
                .contains("content-type: text/javascript").endsWith("export const b = 2;");
        assertThat(http("HEAD /js/app.js HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200 OK")
                .contains("content-length: 19").doesNotContain("export");
        assertThat(http("GET /vms/vm-1/ HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200 OK").endsWith("<html>built-in</html>");
        assertThat(http("GET /vms/vm-1/js/app.js HTTP/1.1\r\nHost: x\r\n\r\n")).endsWith("export const b = 2;");
        assertThat(http("GET /vms/vm-1?password=a HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 301")
                .contains("location: /vms/vm-1/?password=a");
        // directories (with or without a dot in the name) and missing files are not found
        for (String missing : List.of("/js", "/js/", "/dir.d", "/missing.js", "/vms/Bad/js/app.js", "/vms/")) {
            assertThat(http("GET " + missing + " HTTP/1.1\r\nHost: x\r\n\r\n")).as(missing).startsWith("HTTP/1.1 404");
        }
        assertThat(http("GET /dir.d/inner.txt HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200 OK");
        for (String path : List.of("/../webcontent/index.html", "/js/../../WebTransportTest.class", "/%2e%2e/x.txt",
                "/vms/a/../index.html", "/..%5cindex.html", "/%00.js")) {
            assertThat(http("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")).as(path).matches("(?s)HTTP/1.1 (403|404|400).*");
        }
    }

    @Test
    void aWebRootWinsOverClasspathContentAndTheSizeBoundHolds() throws IOException {
        Path root = webRoot();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED)
                .withWeb(WebConfig.DEFAULT.withWebRoot(root).withWebContent(BUILT_IN)));
        assertThat(http("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).endsWith("<html>index</html>");
        assertThat(http("GET /js/app.js HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 404");
        server.close();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED)
                .withWeb(WebConfig.DEFAULT.withWebContent(BUILT_IN).withMaxStaticFileSize(18)));
        assertThat(http("GET /js/app.js HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 403");
        assertThat(http("GET /dir.d/inner.txt HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200 OK");
    }

    @Test
    void withoutAWebRootEveryFileIsNotFound() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        assertThat(http("GET /spice.html HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 404");
    }

    @Test
    void filesAboveTheSizeBoundAreRefused() throws IOException {
        Path root = webRoot();
        Files.write(root.resolve("big.bin"), new byte[4096]);
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withWebRoot(root).withMaxStaticFileSize(4095)));
        assertThat(http("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 403");
        assertThat(http("GET /spice.js HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
    }

    @Test
    void oversizedHandshakeIsRefusedAndClosed() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withHttpLimits(WebConfig.DEFAULT_MAX_INITIAL_LINE, 1024, WebConfig.DEFAULT_REQUEST_TIMEOUT)));
        String resp = http("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Pad: "
                + "a".repeat(4000) + "\r\nSec-WebSocket-Key: " + WS_KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertThat(resp).startsWith("HTTP/1.1 431");
        String longLine = http("GET /" + "a".repeat(WebConfig.DEFAULT_MAX_INITIAL_LINE + 10) + " HTTP/1.1\r\n\r\n");
        assertThat(longLine).startsWith("HTTP/1.1 414");
        await().atMost(Duration.ofSeconds(5)).until(() -> server.linkingConnections() == 0);
    }

    @Test
    void incompleteHandshakeTimesOut() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withHttpLimits(WebConfig.DEFAULT_MAX_INITIAL_LINE, WebConfig.DEFAULT_MAX_HEADER_SIZE, Duration.ofMillis(300))));
        try (Socket s = new Socket("127.0.0.1", addr().getPort())) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            assertThat(readToEof(s)).isEmpty();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5000);
        }
    }

    @Test
    void oversizedFrameClosesTheConnection() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withMaxWebSocketFrameSize(1024)));
        try (Socket s = new Socket("127.0.0.1", addr().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(upgradeRequest("binary", null).getBytes(StandardCharsets.US_ASCII));
            String head = readHead(s.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 101").containsIgnoringCase("sec-websocket-protocol: binary")
                    .contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            // a masked binary frame announcing 2048 bytes (the header alone is refused)
            out.write(new byte[] {(byte) 0x82, (byte) (0x80 | 126), 0x08, 0x00, 1, 2, 3, 4});
            byte[] rest = s.getInputStream().readAllBytes();
            // the server answers with close 1009 (message too big) and closes
            assertThat(rest).isNotEmpty();
            assertThat(rest[0] & 0x0f).isEqualTo(0x8);
            assertThat(((rest[2] & 0xff) << 8) | (rest[3] & 0xff)).isEqualTo(1009);
        }
    }

    @Test
    void originCheckAndSubprotocol() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withWeb(WebConfig.DEFAULT.withAllowedOrigins(List.of("http://good:5900"))));
        assertThat(http(upgradeRequest("binary", "http://evil:5900"))).startsWith("HTTP/1.1 403");
        assertThat(http(upgradeRequest("binary", null))).startsWith("HTTP/1.1 403");
        assertThat(upgradeHead(upgradeRequest("binary", "http://good:5900"))).startsWith("HTTP/1.1 101");
        assertThat(http(upgradeRequest("chat", "http://good:5900"))).startsWith("HTTP/1.1 400");
        // no protocol asked: none answered (spice-wire §2)
        assertThat(upgradeHead(upgradeRequest(null, "http://good:5900"))).startsWith("HTTP/1.1 101")
                .doesNotContainIgnoringCase("sec-websocket-protocol");
    }

    // ------------------------------------------------------------------ helpers

    private Path webRoot() throws IOException {
        Path root = Files.createDirectories(dir.resolve("www"));
        Files.writeString(root.resolve("index.html"), "<html>index</html>");
        Files.writeString(root.resolve("spice.js"), "export const a = 1;");
        Files.createDirectories(root.resolve("sub"));
        Files.writeString(root.resolve("sub/style.css"), "body{}");
        return root;
    }

    private static String upgradeRequest(String protocol, String origin) {
        return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + WS_KEY + "\r\nSec-WebSocket-Version: 13\r\n"
                + (protocol == null ? "" : "Sec-WebSocket-Protocol: " + protocol + "\r\n")
                + (origin == null ? "" : "Origin: " + origin + "\r\n") + "\r\n";
    }

    /** Sends a raw request; returns everything until the server closes. */
    private String http(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", addr().getPort())) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(readToEof(s), StandardCharsets.ISO_8859_1);
        }
    }

    private String upgradeHead(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", addr().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return readHead(s.getInputStream());
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    private static byte[] readToEof(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        return s.getInputStream().readAllBytes();
    }
}
