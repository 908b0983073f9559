package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestChannel;
import org.spicestream.testsupport.Vectors;

/** Link stage over real sockets: reply layout, auth, link errors, pre-auth bounds (spice-wire §3, B44–B50). */
class ServerLinkTest {
    private SpiceServer server;

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

    /** Reads until EOF; true if the server closed the connection within the socket timeout. */
    private static byte[] readToEof(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        return s.getInputStream().readAllBytes();
    }

    @Test
    void displayAndCursorLinkRepliesMatchVectorsExceptTheKey() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        server.channels().register(new TestChannel(SpiceChannelType.DISPLAY, true, 1024, 1, 4, 12));
        server.channels().register(new TestChannel(SpiceChannelType.CURSOR, true, 1024));
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "");
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0);
                SpiceTestClient cursor = main.linkChannel(SpiceChannelType.CURSOR, 0)) {
            assertThat(display.linkResult()).isZero();
            assertThat(cursor.linkResult()).isZero();
            assertReplyMatches(display.linkReply().raw(), Vectors.bytes("s2c_link_reply_display"));
            assertReplyMatches(cursor.linkReply().raw(), Vectors.bytes("s2c_link_reply_cursor"));
            assertThat(display.linkReply().pubKey()).isNotEqualTo(cursor.linkReply().pubKey()); // fresh key per link
        }
    }

    private static void assertReplyMatches(byte[] actual, byte[] expected) {
        int keyStart = 16 + 4;
        int keyEnd = keyStart + 162;
        assertThat(actual).hasSameSizeAs(expected);
        assertThat(Arrays.copyOfRange(actual, 0, keyStart)).isEqualTo(Arrays.copyOfRange(expected, 0, keyStart));
        assertThat(Arrays.copyOfRange(actual, keyEnd, actual.length)).isEqualTo(Arrays.copyOfRange(expected, keyEnd, expected.length));
        // the key has the fixed SPKI shape of an RSA-1024 key with e = 65537
        assertThat(Arrays.copyOfRange(actual, keyStart, keyStart + 29)).isEqualTo(Arrays.copyOfRange(expected, keyStart, keyStart + 29));
    }

    @Test
    void noPasswordInNoAuthModeLinksAndSendsMainInit() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "anything")) {
            assertThat(main.linkResult()).isZero();
            assertThat(main.linkReply().commonCaps()).containsExactly(0x0b);
            SpiceTestClient.Message init = main.next();
            assertThat(init.type()).isEqualTo(SpiceMessages.MSG_MAIN_INIT);
            ByteBuffer b = ByteBuffer.wrap(init.body()).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(init.body()).hasSize(32);
            int sessionId = b.getInt(0);
            assertThat(sessionId).isNotZero();
            assertThat(b.getInt(4)).isZero(); // display_channels_hint
            assertThat(b.getInt(8)).isEqualTo(SpiceMessages.MOUSE_MODE_SERVER);
            assertThat(b.getInt(12)).isEqualTo(SpiceMessages.MOUSE_MODE_SERVER);
            assertThat(b.getInt(16)).isZero(); // no agent
            assertThat(b.getInt(20)).isEqualTo(10);
            // R9: the client's clock starts the session latency behind the server's, not the reference's 400 ms
            int delta = server.mmTime().now() - b.getInt(24);
            int latency = (int) MmTimeConfig.DEFAULT_LATENCY.toMillis();
            assertThat(delta).isBetween(latency, latency + 5_000);
            assertThat(server.sessions().get(0).clock().latencyMs()).isEqualTo(latency);
            assertThat(b.getInt(28)).isZero();
            assertThat(server.sessions()).extracting(ClientSession::id).containsExactly(sessionId);
        }
    }

    @Test
    void rightPasswordLinksWrongExpiredOrMissingPasswordIsPermissionDenied() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("s3cret")));
        try (SpiceTestClient ok = SpiceTestClient.connectMain(addr(), "s3cret")) {
            assertThat(ok.linkResult()).isZero();
        }
        try (SpiceTestClient wrong = SpiceTestClient.connectMain(addr(), "s3cret!")) {
            assertThat(wrong.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
            assertThat(wrong.awaitClosed(Duration.ofSeconds(10))).isTrue();
        }
        server.close();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("s3cret".toCharArray(), Instant.now().minusSeconds(1))));
        try (SpiceTestClient expired = SpiceTestClient.connectMain(addr(), "s3cret")) {
            assertThat(expired.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
        }
        server.close();
        start(ServerConfig.DEFAULT);
        try (SpiceTestClient none = SpiceTestClient.connectMain(addr(), "")) {
            assertThat(none.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
        }
    }

    @Test
    void setAuthRotatesThePasswordForNewLinksWithoutDroppingConnectedClients() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("old")));
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "old")) {
            assertThat(main.linkResult()).isZero();
            server.setAuth(AuthConfig.password("new"));
            try (SpiceTestClient stale = SpiceTestClient.connectMain(addr(), "old")) {
                assertThat(stale.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
            }
            try (SpiceTestClient fresh = SpiceTestClient.connect(addr(), SpiceTestClient.options().password("new")
                    .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.INPUTS, 0))) {
                assertThat(fresh.linkResult()).isZero();
            }
            assertThat(server.sessions()).hasSize(1);
        }
    }

    @Test
    void ticketIsCheckedOnEveryChannelLink() {
        Instant expiry = Instant.now().plusMillis(1500);
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("pw".toCharArray(), expiry)));
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "pw")) {
            assertThat(main.linkResult()).isZero();
            try (SpiceTestClient wrong = SpiceTestClient.connect(addr(), SpiceTestClient.options().password("nope")
                    .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.INPUTS, 0))) {
                assertThat(wrong.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(expiry));
            try (SpiceTestClient late = main.linkChannel(SpiceChannelType.INPUTS, 0)) {
                assertThat(late.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
            }
        }
    }

    @Test
    void unknownConnectionIdIsBadConnectionId() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        try (SpiceTestClient c = SpiceTestClient.connect(addr(),
                SpiceTestClient.options().connectionId(0x1234).channel(SpiceChannelType.INPUTS, 0))) {
            assertThat(c.linkResult()).isEqualTo(SpiceLinkError.BAD_CONNECTION_ID);
        }
    }

    @Test
    void unknownAuthMechanismIsInvalidData() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        try (SpiceTestClient c = SpiceTestClient.connect(addr(), SpiceTestClient.options().mechanism(2))) {
            assertThat(c.linkResult()).isEqualTo(SpiceLinkError.INVALID_DATA);
        }
    }

    @Test
    void unregisteredChannelIsClosedWithoutReply() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            byte[] link = linkBytes(SpiceChannelType.DISPLAY, 7);
            s.getOutputStream().write(link);
            assertThat(readToEof(s)).isEmpty();
        }
    }

    private static byte[] linkBytes(int type, int id) {
        byte[] v = Vectors.bytes("c2s_link_main_spicegtk").clone();
        v[16 + 4] = (byte) type;
        v[16 + 5] = (byte) id;
        return v;
    }

    @Test
    void versionMismatchGetsTheExactErrorStructure() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        byte[] link = linkBytes(SpiceChannelType.MAIN, 0);
        link[4] = 3;
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            s.getOutputStream().write(link);
            assertThat(readToEof(s)).isEqualTo(Vectors.bytes("s2c_link_error_version_mismatch"));
        }
    }

    @Test
    void badMagicIsInvalidMagic() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        byte[] link = linkBytes(SpiceChannelType.MAIN, 0);
        link[0] = 'X';
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            s.getOutputStream().write(link);
            byte[] reply = readToEof(s);
            assertThat(reply).hasSize(16 + 178);
            assertThat(ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt(16)).isEqualTo(SpiceLinkError.INVALID_MAGIC);
        }
    }

    @Test
    void oversizedLinkMessageIsRefusedBeforeItIsRead() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        byte[] header = Arrays.copyOf(Vectors.bytes("c2s_link_main_spicegtk"), 16);
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(12, LinkConfig.DEFAULT_MAX_MESSAGE_SIZE + 1);
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            s.getOutputStream().write(header); // only the header: the server must not wait for 4097 bytes
            byte[] reply = readToEof(s);
            assertThat(reply).hasSize(16 + 178);
            assertThat(ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt(16)).isEqualTo(SpiceLinkError.INVALID_DATA);
        }
    }

    @Test
    void linkTimeoutClosesTheConnection() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withLink(LinkConfig.DEFAULT.withTimeout(Duration.ofMillis(300))));
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            s.getOutputStream().write(Arrays.copyOf(Vectors.bytes("c2s_link_main_spicegtk"), 10));
            long t0 = System.nanoTime();
            assertThat(readToEof(s)).isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.linkingConnections() == 0);
    }

    @Test
    void linkingConnectionsAreBounded() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withLink(LinkConfig.DEFAULT.withMaxLinkingConnections(1)));
        try (Socket first = new Socket(addr().getAddress(), addr().getPort())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> server.linkingConnections() == 1);
            try (Socket second = new Socket(addr().getAddress(), addr().getPort())) {
                assertThat(readToEof(second)).isEmpty();
            }
            assertThat(first.isClosed()).isFalse();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> server.linkingConnections() == 0);
        try (SpiceTestClient ok = SpiceTestClient.connectMain(addr(), "")) {
            assertThat(ok.linkResult()).isZero();
        }
    }

    @Test
    void clientWithoutMiniHeaderGetsFullHeaders() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED));
        try (SpiceTestClient main = SpiceTestClient.connect(addr(),
                SpiceTestClient.options().commonCaps(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION))) {
            assertThat(main.linkResult()).isZero();
            assertThat(main.next().type()).isEqualTo(SpiceMessages.MSG_MAIN_INIT);
            main.send(SpiceMessages.MSGC_MAIN_ATTACH_CHANNELS, new byte[0]);
            assertThat(main.next().type()).isEqualTo(SpiceMessages.MSG_MAIN_CHANNELS_LIST);
        }
    }

    @Test
    void clientWithoutAuthSelectionSendsTheTicketDirectly() {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("pw")));
        try (SpiceTestClient main = SpiceTestClient.connect(addr(),
                SpiceTestClient.options().password("pw").commonCaps(SpiceMessages.COMMON_CAP_MINI_HEADER))) {
            assertThat(main.linkResult()).isZero();
        }
    }

    @Test
    void listensOnIpv6Loopback() {
        org.junit.jupiter.api.Assumptions.assumeTrue(ipv6LoopbackUsable(), "no IPv6 loopback");
        server = SpiceServer.start(ServerConfig.DEFAULT.withListen(ListenConfig.of("::1", 0)).withAuth(AuthConfig.TICKETING_DISABLED));
        try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "")) {
            assertThat(main.linkResult()).isZero();
        }
    }

    private static boolean ipv6LoopbackUsable() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("::1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void externalEventLoopGroupIsUsedAndLeftRunning() {
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing(), group);
            try (SpiceTestClient main = SpiceTestClient.connectMain(addr(), "")) {
                assertThat(main.linkResult()).isZero();
            }
            server.close();
            server = null;
            assertThat(group.isShuttingDown()).isFalse();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void mechanismAndTicketSentBeforeTheReplyAreReadAfterIt() throws IOException {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("pw")));
        byte[] link = linkBytes(SpiceChannelType.MAIN, 0);
        byte[] all = Arrays.copyOf(link, link.length + 4 + 128);
        all[link.length] = 1; // mechanism SPICE, then a ticket of zeros that cannot decrypt
        try (Socket s = new Socket(addr().getAddress(), addr().getPort())) {
            s.getOutputStream().write(all);
            byte[] reply = readToEof(s);
            // link header + reply + one common caps word (main has no channel caps) + the u32 result
            assertThat(reply.length).isEqualTo(16 + 178 + 4 + 4);
            assertThat(ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt(16)).isZero();
            assertThat(ByteBuffer.wrap(reply).order(ByteOrder.LITTLE_ENDIAN).getInt(reply.length - 4))
                    .isEqualTo(SpiceLinkError.PERMISSION_DENIED);
        }
    }
}
