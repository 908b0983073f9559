package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestCertificates;
import org.spicestream.reds.testclient.TestChannel;

/** TLS listener and the secure-channels policy (spice-wire §3.8, B44 NEED_SECURED). */
class TlsTest {
    @TempDir
    Path dir;

    private SpiceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private TestCertificates.Pem serverCert() {
        return TestCertificates.selfSigned(dir, "server", "127.0.0.1");
    }

    private SpiceServer start(ServerConfig c, TlsConfig tls) {
        return start(c, tls, Set.of());
    }

    private SpiceServer start(ServerConfig c, TlsConfig tls, Set<Integer> secureChannels) {
        server = SpiceServer.start(c.withListen(ListenConfig.of("127.0.0.1", 0).withTls(tls).withSecureChannels(secureChannels)));
        return server;
    }

    private static SslContext trusting(Path cert) throws SSLException {
        return SslContextBuilder.forClient().sslProvider(SslProvider.JDK).trustManager(cert.toFile()).build();
    }

    @Test
    void mainAndDisplayLinkOverTlsAndWss() throws Exception {
        TestCertificates.Pem pem = serverCert();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED), TlsConfig.of("127.0.0.1", 0, pem.certificate(), pem.key()));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024, 1, 4, 12);
        server.channels().register(display);
        InetSocketAddress tls = server.tlsLocalAddress();
        assertThat(tls.getPort()).isNotEqualTo(server.localAddress().getPort());
        for (String ws : new String[] {null, "/"}) {
            SpiceTestClient.Options opts = SpiceTestClient.options().tls(trusting(pem.certificate())).webSocket(ws);
            try (SpiceTestClient main = SpiceTestClient.connect(tls, opts);
                    SpiceTestClient dc = main.linkChannel(SpiceChannelType.DISPLAY, 0, 1)) {
                assertThat(main.linkResult()).as("main, ws=" + ws).isZero();
                assertThat(main.next(SpiceMessages.MSG_MAIN_INIT)).isNotNull();
                assertThat(dc.linkResult()).isZero();
                RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
                assertThat(rcc.trySend(new OutgoingMessage(150, rcc.alloc().buffer(4).writeIntLE(42)))).isTrue();
                assertThat(dc.next(150).buf().getIntLE(0)).isEqualTo(42);
            }
        }
    }

    @Test
    void plainLinkOfASecureChannelGetsNeedSecured() throws Exception {
        TestCertificates.Pem pem = serverCert();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED),
                TlsConfig.of("127.0.0.1", 0, pem.certificate(), pem.key()), Set.of(SpiceChannelType.DISPLAY));
        server.channels().register(new TestChannel(SpiceChannelType.DISPLAY, true, 1024, 1));
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            assertThat(main.linkResult()).isZero(); // main is not in the policy
            SpiceTestClient.Options plainDisplay = SpiceTestClient.options()
                    .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0);
            try (SpiceTestClient dc = SpiceTestClient.connect(server.localAddress(), plainDisplay)) {
                assertThat(dc.linkResult()).isEqualTo(SpiceLinkError.NEED_SECURED);
                assertThat(dc.linkReply().raw()).hasSize(16 + 178); // full link-error structure (§3.5)
            }
            // the same link over WebSocket on the plain port is plain too
            try (SpiceTestClient dc = SpiceTestClient.connect(server.localAddress(), plainDisplay.webSocket("/"))) {
                assertThat(dc.linkResult()).isEqualTo(SpiceLinkError.NEED_SECURED);
            }
            SpiceTestClient.Options tlsDisplay = SpiceTestClient.options().tls(trusting(pem.certificate()))
                    .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0);
            try (SpiceTestClient dc = SpiceTestClient.connect(server.tlsLocalAddress(), tlsDisplay)) {
                assertThat(dc.linkResult()).isZero();
            }
        }
    }

    @Test
    void clientCertificatesAreRequiredWithACa() throws Exception {
        TestCertificates.Pem pem = serverCert();
        TestCertificates.Pem clientPem = TestCertificates.selfSigned(dir, "client", "spice-client");
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED),
                TlsConfig.of("127.0.0.1", 0, pem.certificate(), pem.key()).withClientCa(clientPem.certificate()));
        SslContext withCert = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).trustManager(pem.certificate().toFile())
                .keyManager(clientPem.certificate().toFile(), clientPem.key().toFile()).build();
        try (SpiceTestClient main = SpiceTestClient.connect(server.tlsLocalAddress(), SpiceTestClient.options().tls(withCert))) {
            assertThat(main.linkResult()).isZero();
        }
        try (SpiceTestClient main = SpiceTestClient.connect(server.tlsLocalAddress(),
                SpiceTestClient.options().tls(trusting(pem.certificate())))) {
            assertThat(main.linkResult()).isEqualTo(-1); // closed by the handshake failure
        }
    }

    @Test
    void configurationChecks() {
        assertThat(SpiceChannelType.parseList("main, display,4")).containsExactly(1, 2, 4);
        assertThat(SpiceChannelType.parseList("all")).hasSize(11);
        assertThat(SpiceChannelType.parseList("")).isEmpty();
        assertThatThrownBy(() -> SpiceChannelType.parseList("bogus")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ListenConfig.of("127.0.0.1", 0).withSecureChannels(Set.of(SpiceChannelType.MAIN)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TLS");
        TlsConfig missing = TlsConfig.of("127.0.0.1", 0, dir.resolve("none.pem"), dir.resolve("none.key"));
        assertThatThrownBy(() -> SpiceServer.start(ServerConfig.loopbackWithoutTicketing().withListen(ListenConfig.of("127.0.0.1", 0).withTls(missing))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("none.pem");
    }
}
