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
    void aViewerOnA20MbitLinkWith30MsDelayGetsFreshVideoAtWhatTheLinkCarries(TestInfo info) throws Exception {
        SpiceGtkFrameReader.require();
        // 720p MJPEG at 60 fps needs about 28 Mbit/s, more than the link carries.
        int fps = 60;
        EncodedStream stream = TestMedia.get(MediaSpec.of(VideoCodec.MJPEG, 1280, 720, 240).withFps(fps)
                .withFrameNumbers());
        double neededMbit = stream.totalBytes() * 8.0 * fps / stream.frameCount() / 1e6;
        assertThat(neededMbit).as("the stream needs more than the link").isGreaterThan(25);
        ImpairedLink.Direction link = new ImpairedLink.Direction(Duration.ofMillis(30), 20_000_000, 64 * 1024);
        FrameTimeline writes = new FrameTimeline();
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE, c -> c);
                ImpairedLink slow = ImpairedLink.start(relay.server.localAddress(), link);
                TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), fps)
                        .recordWrites(writes).open()) {
            SpiceGtkFrameReader.Result read = SpiceGtkFrameReader.read(uri(slow.address()), null,
                    READ.plusSeconds(3), dir(info));
            assertThat(read.error()).as(read.output()).isEmpty();
            GlassToGlass.Result r = measure(writes, read.draws(), String.format(java.util.Locale.ROOT,
                    "spice-gtk over 20 Mbit/s + 30 ms, 1280x720 MJPEG 60 fps needing %.0f Mbit/s", neededMbit));
            double deliveredMbit = slow.downCounters().bytes() * 8.0 / (READ.plusSeconds(3).toMillis() / 1000.0) / 1e6;
            LOG.info("[glass-to-glass] link carried {} Mbit/s to the viewer, queued at most {} KiB",
                    String.format(java.util.Locale.ROOT, "%.1f", deliveredMbit), slow.downCounters().maxQueued() / 1024);
            // Fresh: the guest is paced by the viewer; what it shows is about the link's delay, the frames' transfer
            // and the clock's latency old, within the age bound (R10).
            assertThat(r.p50Ms()).as("median, ms").isLessThan(500);
            assertThat(r.p99Ms()).as("99th percentile, ms").isLessThan(1000);
            // No growing backlog: what it shows in its last seconds is as fresh (before R10 its queue grew to 32 MiB,
            // 13 s of this link).
            long last = read.draws().get(read.draws().size() - 1).nanos() - MARGIN.toNanos();
            GlassToGlass.Result end = GlassToGlass.measure(writes.events(), read.draws(), last - 2_000_000_000L, last);
            LOG.info("[glass-to-glass] last 2 s: {}", end);
            assertThat(end.shown()).as("pictures in the last 2 s").isPositive();
            assertThat(end.p50Ms()).as("median of the last 2 s, ms").isLessThan(500);
            assertThat(r.shown()).as("frames shown in the window").isGreaterThan(MIN_DRAWS);
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
