package org.spicestream.it.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.it.clients.SpiceGtkProbe;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.RgbImage;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.it.stream.StreamRelay;
import org.spicestream.it.stream.TestGuestAgent;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceLinkError;
import org.spicestream.reds.TlsConfig;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestCertificates;
import org.spicestream.testsupport.ExternalTools;

/**
 * spice-gtk over TLS (ca-file set) shows the guest's stream; with every channel in the secure policy a plain
 * link is refused with NEED_SECURED — spice-gtk then moves to the TLS port by itself, the protocol-level
 * client sees the error.
 */
class SpiceGtkTlsIT {
    private static final Logger LOG = LoggerFactory.getLogger(SpiceGtkTlsIT.class);

    /** As SpiceGtkStreamIT: ≈ 53 dB expected for MJPEG against ffmpeg's decode; a wrong frame is far below. */
    static final double MIN_PSNR_DB = 35;
    static final int FRAMES_TO_SEE = 15;
    static final double PROBE_TIMEOUT_S = 40;

    @TempDir
    Path dir;

    @Test
    void spiceGtkShowsTheStreamOverTlsAndPlainLinksAreRefused() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
        TestCertificates.Pem pem = TestCertificates.selfSigned(dir, "server", "127.0.0.1");
        EncodedStream stream = TestMedia.get(MediaSpec.of(VideoCodec.MJPEG, 320, 240, 60));
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, b -> b.withListen(b.listen()
                .withTls(TlsConfig.of("127.0.0.1", 0, pem.certificate(), pem.key()))
                .withSecureChannels(SpiceChannelType.parseList("all"))))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
            int port = relay.server.localAddress().getPort();
            int tlsPort = relay.server.tlsLocalAddress().getPort();
            try (TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), 30).open()) {
                // 1. TLS port only
                Path png = dir.resolve("tls.png");
                SpiceGtkProbe.Result tlsOnly = SpiceGtkProbe.run("spice://127.0.0.1?tls-port=" + tlsPort, null,
                        pem.certificate(), FRAMES_TO_SEE, png, PROBE_TIMEOUT_S);
                LOG.info("spice-gtk over TLS saw {}", tlsOnly);
                assertShown(tlsOnly, png, stream);

                // 2. both ports: every plain link gets NEED_SECURED and spice-gtk reconnects to the TLS port
                Path png2 = dir.resolve("switched.png");
                SpiceGtkProbe.Result switched = SpiceGtkProbe.run("spice://127.0.0.1?port=" + port + "&tls-port=" + tlsPort,
                        null, pem.certificate(), FRAMES_TO_SEE, png2, PROBE_TIMEOUT_S);
                LOG.info("spice-gtk plain port first saw {}", switched);
                assertShown(switched, png2, stream);

                // 3. an untrusted certificate (no ca-file): spice-gtk refuses the TLS connection
                SpiceGtkProbe.Result untrusted = SpiceGtkProbe.run("spice://127.0.0.1?tls-port=" + tlsPort, null,
                        null, FRAMES_TO_SEE, null, 15);
                LOG.info("spice-gtk without the CA saw {}", untrusted);
                assertThat(untrusted.string("error")).isNotEmpty();
                assertThat(untrusted.number("invalidates")).isZero();
            }
            // 4. protocol level: a plain main link gets the full NEED_SECURED link error
            try (SpiceTestClient plain = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options())) {
                assertThat(plain.linkResult()).isEqualTo(SpiceLinkError.NEED_SECURED);
                assertThat(plain.linkReply().raw()).hasSize(16 + 178);
            }
        }
    }

    private static void assertShown(SpiceGtkProbe.Result seen, Path png, EncodedStream stream) {
        assertThat(seen.string("error")).as(seen.output()).isEmpty();
        assertThat(seen.flag("display_opened")).isTrue();
        assertThat(seen.number("invalidates")).isGreaterThanOrEqualTo(FRAMES_TO_SEE);
        RgbImage shown = RgbImage.read(png);
        double best = 0;
        for (int i = 0; i < stream.frameCount(); i++) {
            best = Math.max(best, TestMedia.psnr(shown, stream.decodedFrame(i)));
        }
        LOG.info("spice-gtk picture: {} dB against the closest guest frame", String.format("%.1f", best));
        assertThat(best).isGreaterThan(MIN_PSNR_DB);
    }
}
