package org.spicestream.it.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.it.browser.ClientPage.DrawnFrame;
import org.spicestream.it.stream.TestGuestAgent;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;

/**
 * Glass-to-glass figures of the browser clients (not a test of the build: run with {@code -Pbrowser-perf}, see
 * docs/performance.md). The guest writes numbered frames and notes when each DATA started into the port; a hook
 * on {@code CanvasRenderingContext2D.drawImage}, the same for both clients, reads the number back from the
 * display canvas right after each draw and notes the time. Scenarios alternate within each round on the same
 * machine: the built-in client at 720p30 in MJPEG, H.264, VP8 and VP9, spice-html5 (Debian) at 720p30 in MJPEG,
 * and the built-in client at 1080p60 in H.264 for the frame rate. Results: target/perf/browser-latency.md.
 */
class BrowserLatencyPerf {
    private static final Logger LOG = LoggerFactory.getLogger(BrowserLatencyPerf.class);

    /** Measured time per scenario and round; -Dperf.window=PT20S changes it. */
    static final Duration WINDOW = Duration.parse(System.getProperty("perf.window", "PT20S"));
    /** Rounds of all scenarios; -Dperf.rounds=N changes it. */
    static final int ROUNDS = Integer.getInteger("perf.rounds", 2);
    /** Frames drawn before the window starts (decoder and JIT warm-up). */
    static final Duration WARM_UP = Duration.ofSeconds(3);
    static final Path SPICE_HTML5 = Path.of("/usr/share/spice-html5");

    /**
     * spice-html5 has no frame API: a hook on {@code drawImage} reads the number back from its display canvas right
     * after each draw, as the built-in client's frame listener does for it.
     */
    static final String HOOK = "(() => {" + ClientPage.readCodeJs(true)
            + " const rec = window.__g2g = [];"
            + " const draw = CanvasRenderingContext2D.prototype.drawImage;"
            + " CanvasRenderingContext2D.prototype.drawImage = function (...args) {"
            + "   draw.apply(this, args);"
            + "   if (this.canvas.id === 'spice_surface_0') {"
            + "     rec.push([0, readCode(this.canvas), Math.round((performance.timeOrigin + performance.now()) * 1000), 0, 0, 0]);"
            + "     if (rec.length > 200000) rec.shift();"
            + "   }"
            + " };"
            + "})();";

    record Scenario(String name, String client, VideoCodec codec, int width, int height, int fps) {}

    /** Only scenarios whose name matches; -Dperf.only=1080p for one of them. */
    static final String ONLY = System.getProperty("perf.only", "");

    /**
     * One scenario's figures; for the built-in client also where the time goes (p50 of guest write → arrival in the
     * page, decode, arrival → drawn) and the browser's CPU time per frame drawn (all its processes).
     */
    record Result(Scenario scenario, int round, GlassToGlass g2g, double fps, double transitMs, double decodeMs,
            double pageMs, double cpuMsPerFrame, Slow slow, String load) {}

    /** The p99 bound: frames slower than this are looked at apart. */
    static final double SLOW_MS = 60;

    /**
     * Frames drawn later than {@link #SLOW_MS} after the guest's write, and where their time went: medians of guest
     * write → arrival in the page, decode, arrival → drawn (the built-in client only).
     */
    record Slow(int frames, double transitMs, double decodeMs, double pageMs, int nearKeyFrame) {
        static final Slow NONE = new Slow(-1, Double.NaN, Double.NaN, Double.NaN, 0);
    }

    /** A slow frame within this many frames from a key frame counts as near one (the key frame's cost). */
    static final int NEAR_KEY_FRAME = 2;

    @Test
    void measure() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        HeadlessChromium.requireChromium();
        List<Scenario> scenarios = List.of(
                new Scenario("ours MJPEG 720p30", "ours", VideoCodec.MJPEG, 1280, 720, 30),
                new Scenario("spice-html5 MJPEG 720p30", "html5", VideoCodec.MJPEG, 1280, 720, 30),
                new Scenario("ours H.264 720p30", "ours", VideoCodec.H264, 1280, 720, 30),
                new Scenario("ours VP9 720p30", "ours", VideoCodec.VP9, 1280, 720, 30),
                new Scenario("ours VP8 720p30", "ours", VideoCodec.VP8, 1280, 720, 30),
                new Scenario("ours H.264 1080p60", "ours", VideoCodec.H264, 1920, 1080, 60));
        Map<Scenario, EncodedStream> media = new LinkedHashMap<>();
        for (Scenario s : scenarios) {
            // ten seconds, looped by the guest; key frame every second
            media.put(s, TestMedia.get(new MediaSpec(s.codec(), s.width(), s.height(), 10 * s.fps(), s.fps(), s.fps())
                    .withFrameNumbers()));
        }
        List<Result> results = new ArrayList<>();
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
        // -Dperf.windowSize=1920x1200: a window the 1080p canvas fits in (less scaling for the software compositor)
        String[] size = System.getProperty("perf.windowSize", HeadlessChromium.WINDOW_WIDTH + "x" + HeadlessChromium.WINDOW_HEIGHT).split("x");
        try (HeadlessChromium chromium = HeadlessChromium.launch(Integer.parseInt(size[0]), Integer.parseInt(size[1]))) {
            chromium.send("Page.addScriptToEvaluateOnNewDocument", "{\"source\":" + HeadlessChromium.quote(HOOK) + "}");
            for (int round = 1; round <= ROUNDS; round++) {
                for (Scenario s : scenarios) {
                    if (!s.name().matches(".*(" + (ONLY.isEmpty() ? "" : ONLY) + ").*")) {
                        continue;
                    }
                    Result r = run(chromium, s, media.get(s), round);
                    LOG.info("round {} {}: {} fps drawn, glass-to-glass {}; transit {} ms, decode {} ms, page {} ms, "
                            + "browser CPU {} ms per frame", round, s.name(), String.format(Locale.ROOT, "%.1f", r.fps()),
                            r.g2g(), f1(r.transitMs()), f1(r.decodeMs()), f1(r.pageMs()), f1(r.cpuMsPerFrame()));
                    results.add(r);
                }
            }
        }
        String loadAfter = Files.readString(Path.of("/proc/loadavg")).strip();
        write(results, loadBefore, loadAfter);
    }

    private Result run(HeadlessChromium chromium, Scenario s, EncodedStream stream, int round) throws Exception {
        boolean html5 = s.client().equals("html5");
        try (BrowserRig rig = new BrowserRig(c -> html5 ? c.withWeb(c.web().withWebRoot(SPICE_HTML5)) : c)) {
            Path socket = rig.addDisplay();
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket));
            try (TestGuestAgent guest = new TestGuestAgent(socket, Map.of(s.codec(), stream), s.fps()).open()) {
                int port = rig.server.localAddress().getPort();
                chromium.navigate(html5 ? rig.url("/spice_auto.html?host=127.0.0.1&port=" + port) : rig.url("/"));
                ClientPage page = new ClientPage(chromium);
                if (html5) {
                    page.awaitTrue("window.__g2g !== undefined && window.__g2g.length > 0");
                } else {
                    page.awaitTrue("window.spicestream !== undefined");
                    page.recordFrames(true);
                    page.awaitTrue("window.__rec.length > 0");
                }
                Instant warm = Instant.now().plus(WARM_UP);
                await().atMost(WARM_UP.plusSeconds(30)).until(() -> Instant.now().isAfter(warm) && !drain(chromium, html5).isEmpty());
                long cpuBefore = cpuMillis(chromium);
                Map<String, Long> byTypeBefore = cpuByType(chromium);
                long from = WebClientBrowserIT.nowMicros();
                long end = from + WINDOW.toNanos() / 1000;
                List<DrawnFrame> frames = new ArrayList<>();
                await().atMost(WINDOW.plusSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
                    frames.addAll(drain(chromium, html5));
                    return WebClientBrowserIT.nowMicros() >= end + 500_000;
                });
                long cpu = cpuMillis(chromium) - cpuBefore;
                Map<String, Long> byType = cpuByType(chromium);
                byType.replaceAll((k, v) -> v - byTypeBefore.getOrDefault(k, 0L));
                LOG.info("{}: browser CPU by process over the window (ms): {}", s.name(), byType);
                frames.addAll(drain(chromium, html5));
                List<DrawnFrame> detail = html5 ? List.of() : frames;
                chromium.navigate("about:blank");
                // frames written in the last half second may still be on their way: they count from the next window
                GlassToGlass g2g = GlassToGlass.of(guest.writes(), frames, 0, from, end - 500_000);
                long drawn = frames.stream().filter(f -> f.drawnMicros() >= from && f.drawnMicros() < end && f.number() >= 0)
                        .count();
                return new Result(s, round, g2g, drawn / (WINDOW.toMillis() / 1000.0),
                        median(transits(guest.writes(), detail, from, end)),
                        median(detail.stream().filter(f -> f.drawnMicros() >= from && f.drawnMicros() < end)
                                .map(f -> f.decodeMicros() / 1000.0).toList()),
                        median(detail.stream().filter(f -> f.drawnMicros() >= from && f.drawnMicros() < end)
                                .map(f -> (f.drawnMicros() - f.arrivedMicros()) / 1000.0).toList()),
                        drawn == 0 ? Double.NaN : (double) cpu / drawn, slow(guest.writes(), detail, from, end, s.fps()),
                        Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            }
        }
    }

    /** The frames of {@code detail} drawn in the window more than {@link #SLOW_MS} after their write. */
    private static Slow slow(List<TestGuestAgent.FrameWrite> writes, List<DrawnFrame> detail, long from, long end, int keyInterval) {
        if (detail.isEmpty()) {
            return Slow.NONE;
        }
        List<Double> transit = new ArrayList<>();
        List<Double> decode = new ArrayList<>();
        List<Double> page = new ArrayList<>();
        int nearKey = 0;
        for (DrawnFrame f : detail) {
            if (f.number() < 0 || f.drawnMicros() < from || f.drawnMicros() >= end) {
                continue;
            }
            long best = Long.MIN_VALUE;
            for (TestGuestAgent.FrameWrite w : writes) {
                if (w.index() == f.number() && w.epochMicros() <= f.drawnMicros() + GlassToGlass.CLOCK_SLACK_MICROS
                        && w.epochMicros() > best) {
                    best = w.epochMicros();
                }
            }
            if (best != Long.MIN_VALUE && (f.drawnMicros() - best) / 1000.0 > SLOW_MS) {
                transit.add((f.arrivedMicros() - best) / 1000.0);
                decode.add(f.decodeMicros() / 1000.0);
                page.add((f.drawnMicros() - f.arrivedMicros()) / 1000.0);
                if (f.number() % keyInterval <= NEAR_KEY_FRAME) {
                    nearKey++;
                }
            }
        }
        return new Slow(transit.size(), median(transit), median(decode), median(page), nearKey);
    }

    /** Guest write → arrival in the page (ms) of every frame of {@code detail} drawn in the window. */
    private static List<Double> transits(List<TestGuestAgent.FrameWrite> writes, List<DrawnFrame> detail, long from, long end) {
        List<Double> out = new ArrayList<>();
        for (DrawnFrame f : detail) {
            if (f.number() < 0 || f.drawnMicros() < from || f.drawnMicros() >= end) {
                continue;
            }
            long best = Long.MIN_VALUE;
            for (TestGuestAgent.FrameWrite w : writes) {
                if (w.index() == f.number() && w.epochMicros() <= f.arrivedMicros() + GlassToGlass.CLOCK_SLACK_MICROS
                        && w.epochMicros() > best) {
                    best = w.epochMicros();
                }
            }
            if (best != Long.MIN_VALUE) {
                out.add((f.arrivedMicros() - best) / 1000.0);
            }
        }
        return out;
    }

    private static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static String f1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** CPU ms per kind of browser process (browser, renderer, gpu-process, utility, ...). */
    private static Map<String, Long> cpuByType(HeadlessChromium chromium) {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (ProcessHandle p : chromium.processTree()) {
            try {
                String cmd = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("--type=(\\S+)").matcher(cmd);
                String type = m.find() ? m.group(1) : "browser";
                String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                out.merge(type, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10, Long::sum);
            } catch (IOException | RuntimeException e) {
                // gone meanwhile
            }
        }
        return out;
    }

    /** User + system CPU time of the browser and all its processes (from /proc), ms. */
    private static long cpuMillis(HeadlessChromium chromium) {
        long ticks = 0;
        for (ProcessHandle p : chromium.processTree()) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            } catch (IOException | RuntimeException e) {
                // the process went away meanwhile
            }
        }
        return ticks * 10; // USER_HZ is 100 on Linux
    }

    /** The frames recorded since the last call: by the built-in client's listener, or by the hook (spice-html5). */
    private static List<DrawnFrame> drain(HeadlessChromium chromium, boolean html5) {
        if (!html5) {
            return new ClientPage(chromium).takeFrames();
        }
        String json = chromium.evaluateString("JSON.stringify((window.__g2g || []).splice(0))");
        List<DrawnFrame> out = new ArrayList<>();
        if (json == null || json.length() <= 2) {
            return out;
        }
        for (String row : json.substring(2, json.length() - 2).split("\\],\\[")) {
            String[] v = row.split(",");
            out.add(new DrawnFrame(0, Integer.parseInt(v[1]), Long.parseLong(v[2]), 0, 0, 0));
        }
        return out;
    }

    private static void write(List<Result> results, String loadBefore, String loadAfter) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "perf"));
        StringBuilder md = new StringBuilder("| scenario | round | frames/s drawn | g2g p50 ms | g2g p99 ms | max ms | shown "
                + "| transit p50 | decode p50 | page p50 | browser CPU ms/frame | frames > " + (int) SLOW_MS
                + " ms: n (near a key frame), transit / decode / page p50 | load (1 min) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        StringBuilder json = new StringBuilder("[\n");
        for (Result r : results) {
            GlassToGlass g = r.g2g();
            Slow slow = r.slow();
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %d / %d (%.1f %%) | %.1f | %.1f | %.1f | %.1f | %s | %s |\n",
                    r.scenario().name(), r.round(), r.fps(), g.percentile(0.5), g.percentile(0.99),
                    g.latencies().isEmpty() ? Double.NaN : g.latencies().get(g.latencies().size() - 1), g.shown(), g.written(),
                    100 * g.shownFraction(), r.transitMs(), r.decodeMs(), r.pageMs(), r.cpuMsPerFrame(),
                    slow.frames() < 0 ? "n/a" : slow.frames() == 0 ? "0" : String.format(Locale.ROOT, "%d (%d): %.1f / %.1f / %.1f", slow.frames(),
                            slow.nearKeyFrame(), slow.transitMs(), slow.decodeMs(), slow.pageMs()), r.load()));
            json.append(String.format(Locale.ROOT, "  {\"scenario\": \"%s\", \"round\": %d, \"fps\": %.2f, \"p50\": %.2f, "
                    + "\"p99\": %.2f, \"shown\": %d, \"written\": %d}%s\n", r.scenario().name(), r.round(), r.fps(),
                    g.percentile(0.5), g.percentile(0.99), g.shown(), g.written(),
                    r == results.get(results.size() - 1) ? "" : ","));
        }
        json.append("]\n");
        md.append("\nload average before: ").append(loadBefore).append(", after: ").append(loadAfter)
                .append("; window ").append(WINDOW).append(" per scenario and round\n");
        Files.writeString(dir.resolve("browser-latency.md"), md);
        Files.writeString(dir.resolve("browser-latency.json"), json);
        LOG.info("browser glass-to-glass:\n{}", md);
        assertThat(results).isNotEmpty();
    }
}
