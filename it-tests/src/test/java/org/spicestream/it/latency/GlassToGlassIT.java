package org.spicestream.it.latency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.it.stream.StreamRelay;
import org.spicestream.it.stream.TestGuestAgent;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.testsupport.latency.FrameTimeline;
import org.spicestream.testsupport.latency.FrameTimeline.Event;
import org.spicestream.testsupport.latency.GlassToGlass;
import org.spicestream.testsupport.latency.RemoteViewerFrameReader;
import org.spicestream.testsupport.latency.SpiceGtkFrameReader;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.testsupport.net.ImpairedLink;

/**
 * Glass to glass with real spice-gtk viewers (R9, R10): the guest writes frames that carry their number as blocks
 * in the picture, the viewer reads the number at every update, and latency = drawn − written on one clock. The
 * bounds are generous, for a shared two-core machine under load (seen: load average 17, spice-gtk decoding late):
 * with the reference's fixed 400 ms clock margin no frame is ever shown sooner than 400 ms, so the fastest tenth
 * and the median fail them. The figures are measured by the benchmark (docs/performance.md).
 */
class GlassToGlassIT {

    private static final Logger LOG = LoggerFactory.getLogger(GlassToGlassIT.class);

    static final int FPS = 30;
    /** How long a viewer reads after its first picture. */
    static final Duration READ = Duration.ofSeconds(5);
    /** Left out at both ends of the reading: the start (stream create, first key frame) and frames still on their way. */
    static final Duration MARGIN = Duration.ofSeconds(1);
    /**
     * Generous (measured on the loaded machine: p50 14–17 ms MJPEG, 35–90 ms H.264), and below the reference's 400 ms
     * clock margin, which no frame can beat.
     */
    static final double MAX_P10_MS = 150;
    static final double MAX_P50_MS = 300;
    /** Shown / written: the viewer shows most frames (a starved client skips some, by design). */
    static final double MIN_SHOWN = 0.25;
    /** One-way delay of the slow link. */
    static final Duration LINK_DELAY = Duration.ofMillis(30);
    /** Fewest pictures a reading must have to mean anything. */
    static final int MIN_DRAWS = 10;

    private static Path dir(TestInfo info) {
        return Path.of("target", "glass-to-glass", info.getTestMethod().orElseThrow().getName());
    }

    private static EncodedStream numbered(VideoCodec codec, int width, int height, int frames) {
        return TestMedia.get(MediaSpec.of(codec, width, height, frames).withFps(FPS).withFrameNumbers());
    }

    /** Measures over the reading minus {@link #MARGIN} at both ends. */
    private static GlassToGlass.Result measure(FrameTimeline writes, List<Event> draws, String what) {
        assertThat(draws).as("%s: pictures with a readable number", what).hasSizeGreaterThan(MIN_DRAWS);
        long from = draws.get(0).nanos() + MARGIN.toNanos();
        long to = draws.get(draws.size() - 1).nanos() - MARGIN.toNanos();
        GlassToGlass.Result r = GlassToGlass.measure(writes.events(), draws, from, to);
        LOG.info("[glass-to-glass] {}: {}", what, r);
        return r;
    }

    private static void assertFresh(GlassToGlass.Result r) {
        assertThat(r.percentileMs(10)).as("fastest tenth, ms").isLessThan(MAX_P10_MS);
        assertThat(r.p50Ms()).as("median, ms").isLessThan(MAX_P50_MS);
        assertThat(r.shownFraction()).as("frames shown").isGreaterThanOrEqualTo(MIN_SHOWN);
    }

    private static String uri(InetSocketAddress a) {
        return "spice://" + a.getHostString() + ":" + a.getPort();
    }

    @Test
    void spiceGtkShowsMjpegFramesAFrameIntervalAfterTheGuestWroteThemNot400Ms(TestInfo info) throws Exception {
        SpiceGtkFrameReader.require();
        EncodedStream stream = numbered(VideoCodec.MJPEG, 640, 480, 240);
        FrameTimeline writes = new FrameTimeline();
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, c -> c);
                TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), FPS)
                        .recordWrites(writes).open()) {
            SpiceGtkFrameReader.Result read = SpiceGtkFrameReader.read(uri(relay.server.localAddress()), null, READ,
                    dir(info));
            assertThat(read.error()).as(read.output()).isEmpty();
            GlassToGlass.Result r = measure(writes, read.draws(), "spice-gtk, 640x480 MJPEG 30 fps, loopback");
            assertFresh(r);
        }
    }

    @Test
    void spiceGtkShowsH264FramesThroughItsGStreamerPathAsSoonAsDecoded(TestInfo info) throws Exception {
        SpiceGtkFrameReader.require();
        EncodedStream stream = numbered(VideoCodec.H264, 640, 480, 240);
        FrameTimeline writes = new FrameTimeline();
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, c -> c);
                TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.H264, stream), FPS)
                        .recordWrites(writes).open()) {
            SpiceGtkFrameReader.Result read = SpiceGtkFrameReader.read(uri(relay.server.localAddress()), null, READ,
                    dir(info));
            assertThat(read.error()).as(read.output()).isEmpty();
            GlassToGlass.Result r = measure(writes, read.draws(), "spice-gtk, 640x480 H.264 30 fps, loopback");
            assertFresh(r);
        }
    }

    @Test
    void remoteViewersWindowShowsFramesAFrameIntervalAfterTheGuestWroteThem(TestInfo info) throws Exception {
        RemoteViewerFrameReader.require();
        EncodedStream stream = numbered(VideoCodec.MJPEG, 640, 480, 240);
        FrameTimeline writes = new FrameTimeline();
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, c -> c);
                TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), FPS)
                        .recordWrites(writes).open()) {
            SpiceGtkFrameReader.Result read = RemoteViewerFrameReader.read(uri(relay.server.localAddress()),
                    stream.width(), stream.height(), READ, dir(info));
            assertThat(read.error()).as(read.output()).isEmpty();
            GlassToGlass.Result r = measure(writes, read.draws(), "remote-viewer window, 640x480 MJPEG 30 fps, loopback"
                    + " (screen polled every " + read.summary().get("resolution_ms") + " ms)");
            assertFresh(r);
        }
    }

    @Test
    void aViewerBehindA20MbitLinkWith30MsEachWayIsShownFramesTheLinkDelayLaterNot400Ms(TestInfo info)
            throws Exception {
        SpiceGtkFrameReader.require();
        EncodedStream stream = numbered(VideoCodec.MJPEG, 640, 480, 240);
        double neededMbit = stream.totalBytes() * 8.0 * FPS / stream.frameCount() / 1e6;
        ImpairedLink.Direction link = new ImpairedLink.Direction(LINK_DELAY, 20_000_000, 64 * 1024);
        FrameTimeline writes = new FrameTimeline();
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, c -> c);
                ImpairedLink slow = ImpairedLink.start(relay.server.localAddress(), link);
                TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), FPS)
                        .recordWrites(writes).open()) {
            SpiceGtkFrameReader.Result read = SpiceGtkFrameReader.read(uri(slow.address()), null, READ, dir(info));
            assertThat(read.error()).as(read.output()).isEmpty();
            GlassToGlass.Result r = measure(writes, read.draws(), String.format(java.util.Locale.ROOT,
                    "spice-gtk over 20 Mbit/s + 30 ms each way, 640x480 MJPEG 30 fps (%.1f Mbit/s)", neededMbit));
            assertThat(slow.downCounters().bytes()).as("the viewer's bytes went through the link").isPositive();
            // The frames cross the link once (30 ms); the client's clock was set over it too, so the session's
            // latency need not grow by the delay. Generous as above, plus the link's delay.
            long delayMs = LINK_DELAY.toMillis();
            assertThat(r.percentileMs(10)).as("fastest tenth, ms").isLessThan(MAX_P10_MS + delayMs);
            assertThat(r.p50Ms()).as("median, ms").isLessThan(MAX_P50_MS + delayMs);
            assertThat(r.shownFraction()).as("frames shown").isGreaterThanOrEqualTo(MIN_SHOWN);
        }
    }

    @Test
    void aViewerJoiningBehindAStalledViewerGetsTheFullFrameRateFromItsFirstSecond(TestInfo info) throws Exception {
        SpiceGtkFrameReader.require();
        EncodedStream stream = numbered(VideoCodec.MJPEG, 640, 480, 240);
        FrameTimeline writes = new FrameTimeline();
        try (StreamRelay relay = new StreamRelay(SessionPolicy.SHARE, c -> c);
                TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), FPS)
                        .recordWrites(writes).open();
                SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options());
                SpiceTestClient stalled = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId()))
                        .channel(SpiceChannelType.DISPLAY, 0).autoAck(false))) {
            // The stalled viewer takes the frames it is given and never acknowledges them: the guest is paused.
            await().atMost(Duration.ofSeconds(20)).until(() -> writes.size() > 0);
            SpiceGtkFrameReader.Result read = SpiceGtkFrameReader.read(uri(relay.server.localAddress()), null,
                    Duration.ofSeconds(3), dir(info));
            assertThat(read.error()).as(read.output()).isEmpty();
            long firstSecondEnd = read.draws().get(0).nanos() + 1_000_000_000L;
            long shownInFirstSecond = read.draws().stream().filter(d -> d.nanos() < firstSecondEnd)
                    .map(Event::number).distinct().count();
            LOG.info("[glass-to-glass] a viewer joining behind a stalled one showed {} pictures in its first second"
                    + " ({} fps stream)", shownInFirstSecond, FPS);
            // Before the fix it saw one picture in 6 s: nothing resumed the guest for it.
            assertThat(shownInFirstSecond).isGreaterThanOrEqualTo(FPS / 3);
            assertThat(stalled.isOpen()).isTrue();
        }
    }
}
