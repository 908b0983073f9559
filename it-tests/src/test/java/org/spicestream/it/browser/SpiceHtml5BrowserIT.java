package org.spicestream.it.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.RgbImage;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.it.stream.StreamRelay;
import org.spicestream.it.stream.TestGuestAgent;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.testsupport.ExternalTools;

/**
 * spice-html5 (Debian package) in headless Chromium: the page comes from the SPICE port itself (web root), the
 * client connects over WebSocket on the same port, and a screenshot of its canvas shows the guest's stream.
 */
class SpiceHtml5BrowserIT {
    private static final Logger LOG = LoggerFactory.getLogger(SpiceHtml5BrowserIT.class);

    /** Where Debian's spice-html5 package installs the client. */
    static final Path SPICE_HTML5 = Path.of("/usr/share/spice-html5");
    /** The brief's bound: the canvas area against the closest decoded guest frame. */
    static final double MIN_PSNR_DB = 25;
    /** Two screenshots this far apart must differ (the stream runs at {@link #FPS}). */
    static final Duration ADVANCE_GAP = Duration.ofMillis(700);
    static final int FPS = 30;
    static final int WIDTH = 320;
    static final int HEIGHT = 240;
    static final int FRAMES = 60;
    static final Duration SHOW_TIMEOUT = Duration.ofSeconds(45);

    private record Shot(RgbImage image, double psnr, int frame) {}

    @Test
    void spiceHtml5ShowsTheStreamFromTheSamePort() throws Exception {
        // the screenshots stay in target/ for a look after a run
        Path dir = Files.createDirectories(Path.of("target", "spice-html5-screenshots"));
        ExternalTools.require("ffmpeg", "ffmpeg");
        HeadlessChromium.requireChromium();
        ExternalTools.check(Files.isRegularFile(SPICE_HTML5.resolve("spice_auto.html")),
                "spice-html5 (install the Debian package spice-html5)");
        EncodedStream stream = TestMedia.get(MediaSpec.of(VideoCodec.MJPEG, WIDTH, HEIGHT, FRAMES));
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, b -> b.withWeb(b.web().withWebRoot(SPICE_HTML5)))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
            int port = relay.server.localAddress().getPort();
            try (TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), FPS).open();
                    HeadlessChromium chromium = HeadlessChromium.launch()) {
                chromium.navigate("http://127.0.0.1:" + port + "/spice_auto.html?host=127.0.0.1&port=" + port);
                int[] rect = new int[4];
                Shot first;
                try {
                    await().atMost(SHOW_TIMEOUT).pollInterval(Duration.ofMillis(250)).until(() -> canvasRect(chromium, rect));
                    LOG.info("spice-html5 canvas at {},{} size {}x{}", rect[0], rect[1], rect[2], rect[3]);
                    assertThat(rect[2]).isEqualTo(WIDTH);
                    assertThat(rect[3]).isEqualTo(HEIGHT);
                    Shot[] holder = new Shot[1];
                    await().atMost(SHOW_TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
                        holder[0] = shoot(chromium, rect, stream);
                        return holder[0].psnr() >= MIN_PSNR_DB;
                    });
                    first = holder[0];
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    throw new AssertionError("spice-html5 did not show the stream; console:\n"
                            + String.join("\n", chromium.console()), e);
                }
                first.image().writePng(dir.resolve("first.png"));
                Shot[] next = new Shot[1];
                Shot firstShot = first;
                try {
                    // the next screenshot showing another frame (or the last one taken, checked below)
                    await().atMost(SHOW_TIMEOUT).pollInterval(ADVANCE_GAP).until(() -> {
                        next[0] = shoot(chromium, rect, stream);
                        return !java.util.Arrays.equals(next[0].image().rgb(), firstShot.image().rgb());
                    });
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    // asserted below
                }
                Shot second = next[0];
                second.image().writePng(dir.resolve("second.png"));
                LOG.info("spice-html5 screenshots: frame {} at {} dB, then frame {} at {} dB; guest sent {} frames",
                        first.frame(), String.format("%.1f", first.psnr()), second.frame(),
                        String.format("%.1f", second.psnr()), guest.framesSent());
                assertThat(first.psnr()).as("PSNR of the canvas against the closest guest frame").isGreaterThanOrEqualTo(MIN_PSNR_DB);
                assertThat(second.psnr()).isGreaterThanOrEqualTo(MIN_PSNR_DB);
                assertThat(second.image().rgb()).as("frames advance").isNotEqualTo(first.image().rgb());
                assertThat(guest.formats()).containsExactly(WIDTH + "x" + HEIGHT + " MJPEG");
                // spice_auto.html prompts for a password when a link is refused: R13 accepts its short tickets
                assertThat(chromium.console()).as("JavaScript dialogs (spice-html5 asks on a refused link)")
                        .noneMatch(e -> e.startsWith("{\"method\":\"Page.javascriptDialogOpening\""));
            }
        }
    }

    private static boolean canvasRect(HeadlessChromium chromium, int[] rect) {
        // the content box: spice.css gives the canvas a border
        String json = chromium.evaluateString("(() => { const c = document.getElementById('spice_surface_0');"
                + " if (!c) return null; const r = c.getBoundingClientRect();"
                + " return [Math.round(r.left + c.clientLeft), Math.round(r.top + c.clientTop), c.clientWidth, c.clientHeight].join(','); })()");
        if (json == null || json.isEmpty()) {
            return false;
        }
        String[] parts = json.split(",");
        for (int i = 0; i < 4; i++) {
            rect[i] = Integer.parseInt(parts[i].strip());
        }
        return rect[2] > 0 && rect[3] > 0;
    }

    /**
     * Screenshot of the canvas and the closest guest frame. Each JPEG is decoded twice: by ffmpeg (the suite's
     * reference decode) and by the JDK's libjpeg-derived decoder; Chromium decodes with libjpeg-turbo's
     * smooth chroma upsampling, which matches the latter far better (ffmpeg's upsampling costs ≈ 25 dB on the
     * test pattern's sharp colour edges), so the higher of the two is the frame's score.
     */
    private static Shot shoot(HeadlessChromium chromium, int[] rect, EncodedStream stream) throws IOException {
        byte[] png = chromium.screenshot(rect[0], rect[1], rect[2], rect[3]);
        RgbImage shown = RgbImage.of(ImageIO.read(new ByteArrayInputStream(png)));
        double best = 0;
        int bestIndex = -1;
        if (shown.width() == stream.width() && shown.height() == stream.height()) {
            for (int i = 0; i < stream.frameCount(); i++) {
                double psnr = Math.max(TestMedia.psnr(shown, stream.decodedFrame(i)),
                        TestMedia.psnr(shown, jdkDecode(stream, i)));
                if (psnr > best) {
                    best = psnr;
                    bestIndex = i;
                }
            }
        }
        return new Shot(shown, best, bestIndex);
    }

    private static final Map<String, RgbImage> JDK_DECODED = new java.util.concurrent.ConcurrentHashMap<>();

    private static RgbImage jdkDecode(EncodedStream stream, int index) {
        return JDK_DECODED.computeIfAbsent(System.identityHashCode(stream) + ":" + index, k -> {
            try {
                return RgbImage.of(ImageIO.read(new ByteArrayInputStream(stream.frame(index))));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
