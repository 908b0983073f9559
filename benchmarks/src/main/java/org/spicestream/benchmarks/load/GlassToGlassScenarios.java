package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * Glass to glass with real viewers: a guest writes a real encoded stream whose frames carry their number as blocks
 * ({@link NumberedStreamGuest}), the server under test (spice-streamd, or the libspice-server reference built by
 * {@link NativeTools}) relays it, and a viewer reads the number at every picture it shows: spice-gtk without a
 * window ({@link SpiceGtkFrameReader}) or remote-viewer's window ({@link RemoteViewerFrameReader}), optionally
 * through a slow link ({@link ImpairedLink}). Latency = shown − written, one clock (CLOCK_MONOTONIC).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.spicestream.benchmarks.load.GlassToGlassScenarios --out target/g2g
 *     [--server-jar distribution/target/spice-streamd.jar] [--duration 20] [--only g2g-mjpeg-720p30,...]
 *     [--impls server,cserver] [--server-args "--latency 10"] [--h264-trailing-aud]
 *     [--viewer-env "NAME=VALUE;..."] [--spice-gtk-au-caps]
 * </pre>
 *
 * <p>{@code --viewer-env NAME=VALUE[;NAME=VALUE...]} measures every spice-gtk case twice per server, alternating: with
 * the viewer's environment as it is and with these variables added (a client-side GStreamer setting, for instance).
 * {@code --spice-gtk-au-caps} does the same with {@link NativeTools#AU_CAPS_SHIM} preloaded: spice-gtk as it would be
 * if its H.264/H.265 appsrc caps said "one access unit per buffer" (docs/performance.md, issue 13).
 */
public final class GlassToGlassScenarios {

    private static final Logger LOG = LoggerFactory.getLogger(GlassToGlassScenarios.class);

    static final int DEFAULT_DURATION_S = 20;
    /** Left out at the start of every reading: stream creation, first key frame, the clock settling. */
    static final Duration WARMUP = Duration.ofSeconds(3);
    /** Left out at the end: frames still on their way when the viewer stopped. */
    static final Duration TAIL = Duration.ofSeconds(1);
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    /** Frames of each test stream (the guest loops it): 10 s at 30 fps, far longer than any latency. */
    static final int STREAM_FRAMES = 300;
    /** How often the server's per-client clock latency gauge is sampled while a viewer reads. */
    static final int METRICS_PERIOD_MS = 500;

    /** Which client shows the picture. */
    enum Viewer {
        SPICE_GTK("spice-gtk (GI, no window)"),
        REMOTE_VIEWER("remote-viewer window");

        final String label;

        Viewer(String label) {
            this.label = label;
        }
    }

    /** A server under test. */
    enum Impl {
        SERVER("server", "spice-streamd"),
        C_SERVER("cserver", "libspice-server 0.15");

        final String id;
        final String label;

        Impl(String id, String label) {
            this.id = id;
            this.label = label;
        }

        static Impl of(String id) {
            return Arrays.stream(values()).filter(i -> i.id.equals(id)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown implementation " + id + " (server, cserver)"));
        }
    }

    /**
     * One case: a stream, a viewer and a link ({@code null}: loopback).
     */
    record Case(String name, String title, VideoCodec codec, int width, int height, int fps, Viewer viewer,
            ImpairedLink.Direction link, String target) {}

    static final ImpairedLink.Direction DELAY_30MS = ImpairedLink.Direction.delay(Duration.ofMillis(30));
    static final ImpairedLink.Direction LINK_20MBIT_30MS =
            new ImpairedLink.Direction(Duration.ofMillis(30), 20_000_000, 64 * 1024);

    static final List<Case> ALL = List.of(
            new Case("g2g-mjpeg-720p30", "spice-gtk, 1280x720 MJPEG 30 fps, loopback", VideoCodec.MJPEG, 1280, 720,
                    30, Viewer.SPICE_GTK, null, "p50 <= 20 ms, p99 <= 40 ms, >= 98 % shown"),
            new Case("g2g-h264-720p30", "spice-gtk, 1280x720 H.264 30 fps, loopback", VideoCodec.H264, 1280, 720, 30,
                    Viewer.SPICE_GTK, null, "p50 <= 20 ms, p99 <= 40 ms, >= 98 % shown"),
            new Case("g2g-mjpeg-720p30-window", "remote-viewer window, 1280x720 MJPEG 30 fps, loopback",
                    VideoCodec.MJPEG, 1280, 720, 30, Viewer.REMOTE_VIEWER, null, "as spice-gtk"),
            new Case("g2g-mjpeg-720p30-link30", "spice-gtk, 1280x720 MJPEG 30 fps, 30 ms each way", VideoCodec.MJPEG,
                    1280, 720, 30, Viewer.SPICE_GTK, DELAY_30MS, "p50 <= 30 ms + 30 ms, >= 95 % shown"),
            new Case("g2g-mjpeg-720p60-20mbit", "spice-gtk, 1280x720 MJPEG 60 fps (~28 Mbit/s), 20 Mbit/s + 30 ms",
                    VideoCodec.MJPEG, 1280, 720, 60, Viewer.SPICE_GTK, LINK_20MBIT_30MS,
                    "fresh video at the link's rate, no growing backlog"));

    private final Path out;
    private final Path serverJar;
    private final String java;
    private final Duration duration;
    private final List<String> serverArgs;
    /** Experiment: H.264 access units end with the next one's delimiter (see NumberedStreamGuest.trailingAud). */
    boolean trailingAud;
    /** Experiment: spice-gtk cases are also read with these variables in the viewer's environment. */
    Map<String, String> viewerEnv = Map.of();
    private final Map<Impl, Path> natives = new LinkedHashMap<>();

    GlassToGlassScenarios(Path out, Path serverJar, String java, Duration duration, List<String> serverArgs) {
        this.out = out;
        this.serverJar = serverJar;
        this.java = java;
        this.duration = duration;
        this.serverArgs = serverArgs;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("target", "g2g");
        Path jar = Path.of("distribution", "target", "spice-streamd.jar");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int duration = DEFAULT_DURATION_S;
        Set<String> only = null;
        List<Impl> impls = List.of(Impl.SERVER, Impl.C_SERVER);
        List<String> serverArgs = List.of();
        boolean trailing = false;
        Map<String, String> viewerEnv = Map.of();
        boolean auCaps = false;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--out" -> out = Path.of(v);
                case "--server-jar" -> jar = Path.of(v);
                case "--java" -> java = v;
                case "--duration" -> duration = Integer.parseInt(v);
                case "--only" -> only = Set.of(v.split(","));
                case "--impls" -> impls = Arrays.stream(v.split(",")).map(Impl::of).toList();
                case "--server-args" -> serverArgs = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
                case "--viewer-env" -> viewerEnv = parseEnv(v);
                case "--spice-gtk-au-caps" -> {
                    auCaps = true;
                    i--; // no value
                }
                case "--h264-trailing-aud" -> {
                    trailing = true;
                    i--; // no value
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
            i++;
        }
        if (auCaps) {
            viewerEnv = new LinkedHashMap<>(viewerEnv);
            viewerEnv.put("LD_PRELOAD", NativeTools.buildAuCapsShim(out.resolve("native")).toString());
        }
        GlassToGlassScenarios g = new GlassToGlassScenarios(out, jar, java, Duration.ofSeconds(duration), serverArgs);
        g.trailingAud = trailing;
        g.viewerEnv = viewerEnv;
        Set<String> selected = only;
        g.run(ALL.stream().filter(c -> selected == null || selected.contains(c.name())).toList(), impls);
    }

    void run(List<Case> cases, List<Impl> impls) throws Exception {
        Files.createDirectories(out.resolve("logs"));
        List<Impl> chosen = new ArrayList<>(impls);
        if (chosen.contains(Impl.C_SERVER)) {
            try {
                natives.put(Impl.C_SERVER, NativeTools.buildCServer(out.resolve("native")));
            } catch (IOException e) {
                LOG.warn("libspice-server reference left out: {}", e.getMessage());
                chosen.remove(Impl.C_SERVER);
            }
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("started", Instant.now().toString());
        root.put("cpus", Runtime.getRuntime().availableProcessors());
        root.put("loadavg_before", Scenarios.loadAverage());
        root.put("duration_s", duration.toSeconds());
        List<Map<String, Object>> results = new ArrayList<>();
        for (Case c : cases) {
            for (Impl impl : chosen) {
                List<Map<String, String>> envs = viewerEnv.isEmpty() || c.viewer() != Viewer.SPICE_GTK
                        ? List.of(Map.of()) : List.of(Map.of(), viewerEnv);
                for (Map<String, String> env : envs) {
                    Map<String, Object> r = runCase(c, impl, env);
                    results.add(r);
                    LOG.info("{} {}{}: {}", c.name(), impl.label, env.isEmpty() ? "" : " " + env, r.get("summary"));
                    Files.writeString(out.resolve("g2g-results.json"),
                            Json.write(Map.of("run", root, "results", results)));
                }
            }
        }
        root.put("loadavg_after", Scenarios.loadAverage());
        Files.writeString(out.resolve("g2g-results.json"), Json.write(Map.of("run", root, "results", results)));
        Files.writeString(out.resolve("g2g-results.md"), markdown(root, results));
        LOG.info("results in {}", out.resolve("g2g-results.md"));
    }

    /** "A=1;B=2" as a map (insertion order kept). */
    static Map<String, String> parseEnv(String spec) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String pair : spec.split(";")) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--viewer-env wants NAME=VALUE[;NAME=VALUE...], got " + spec);
            }
            env.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return env;
    }

    private Map<String, Object> runCase(Case c, Impl impl, Map<String, String> viewerEnvironment) throws Exception {
        String label = c.name() + "-" + impl.id + (viewerEnvironment.isEmpty() ? "" : "-env");
        EncodedStream stream = TestMedia.get(MediaSpec.of(c.codec(), c.width(), c.height(), STREAM_FRAMES)
                .withFps(c.fps()).withFrameNumbers());
        Path dir = Files.createTempDirectory("g2g");
        Path socket = dir.resolve("guest.sock");
        int port = Scenarios.freePort();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("case", c.name());
        r.put("title", c.title());
        r.put("impl", impl.label);
        if (!viewerEnvironment.isEmpty()) {
            r.put("viewer_env", viewerEnvironment.toString());
        }
        r.put("target", c.target());
        r.put("loadavg_start", Scenarios.loadAverage());
        r.put("stream_mbit_s", stream.totalBytes() * 8.0 * c.fps() / stream.frameCount() / 1e6);
        Process server = null;
        ImpairedLink link = null;
        r.put("h264_trailing_aud", trailingAud && c.codec() == VideoCodec.H264);
        try (NumberedStreamGuest guest = NumberedStreamGuest.start(socket, stream, c.fps()).trailingAud(trailingAud)) {
            List<String> cmd = new ArrayList<>();
            int metricsPort = -1;
            if (impl == Impl.C_SERVER) {
                cmd.addAll(List.of(natives.get(impl).toString(), socket.toString(), Integer.toString(port)));
            } else {
                metricsPort = Scenarios.freePort();
                cmd.addAll(List.of(java, "-jar", serverJar.toString(), "--listen", "127.0.0.1:" + port,
                        "--disable-ticketing", "--device", "unix:" + socket, "--metrics",
                        "127.0.0.1:" + metricsPort));
                cmd.addAll(serverArgs);
            }
            r.put("command", String.join(" ", cmd));
            server = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(out.resolve("logs").resolve(label + ".log").toFile()).start();
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
            awaitPort(address, server);
            if (c.link() != null) {
                link = ImpairedLink.start(address, c.link());
                address = link.address();
            }
            String uri = "spice://127.0.0.1:" + address.getPort();
            Path readerDir = out.resolve("logs").resolve(label);
            Duration reading = duration.plus(WARMUP).plus(TAIL);
            // the gauge exists while the viewer is connected: sample it during the reading
            SortedSet<Double> latencies = new ConcurrentSkipListSet<>();
            Thread sampler = null;
            if (metricsPort > 0) {
                int polled = metricsPort;
                sampler = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        latencies.addAll(ServerMetrics.values(polled, "spicestream_client_mm_time_latency_ms"));
                        try {
                            TimeUnit.MILLISECONDS.sleep(METRICS_PERIOD_MS);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "g2g-metrics");
                sampler.setDaemon(true);
                sampler.start();
            }
            SpiceGtkFrameReader.Result read;
            try {
                read = c.viewer() == Viewer.SPICE_GTK
                        ? SpiceGtkFrameReader.read(uri, null, reading, readerDir, viewerEnvironment)
                        : RemoteViewerFrameReader.read(uri, c.width(), c.height(), reading, readerDir);
            } finally {
                if (sampler != null) {
                    sampler.interrupt();
                    sampler.join();
                }
            }
            r.put("reader", read.summary());
            List<Event> draws = read.draws();
            if (draws.isEmpty()) {
                r.put("summary", "no picture: " + read.error());
                return r;
            }
            long from = draws.get(0).nanos() + WARMUP.toNanos();
            long to = draws.get(draws.size() - 1).nanos() - TAIL.toNanos();
            GlassToGlass.Result g = GlassToGlass.measure(guest.writes().events(), draws, from, to);
            double seconds = (to - from) / 1e9;
            r.put("min_ms", g.percentileMs(0));
            r.put("p10_ms", g.percentileMs(10));
            r.put("p50_ms", g.p50Ms());
            r.put("p90_ms", g.percentileMs(90));
            r.put("p99_ms", g.p99Ms());
            r.put("max_ms", g.maxMs());
            r.put("mean_ms", g.meanMs());
            r.put("written", g.written());
            r.put("shown", g.shown());
            r.put("shown_pct", 100 * g.shownFraction());
            r.put("guest_fps", g.written() / seconds);
            r.put("shown_fps", g.shown() / seconds);
            if (link != null) {
                r.put("link_mbit_s_down", link.downCounters().bytes() * 8.0 / reading.toMillis() / 1000);
                r.put("link_max_queued_kib", link.downCounters().maxQueued() / 1024);
            }
            if (metricsPort > 0) {
                r.put("server_mm_time_latency_ms", new ArrayList<>(latencies));
            }
            r.put("summary", g.toString());
            return r;
        } finally {
            if (link != null) {
                link.close();
            }
            if (server != null) {
                r.put("exit", Scenarios.stop(server));
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    @SuppressWarnings("unchecked")
    static String markdown(Map<String, Object> root, List<Map<String, Object>> results) {
        StringBuilder b = new StringBuilder();
        b.append("# Glass to glass\n\nStarted ").append(root.get("started")).append(", ").append(root.get("cpus"))
                .append(" CPUs, load average before `").append(root.get("loadavg_before")).append("`, after `")
                .append(root.get("loadavg_after")).append("`; each case read for ").append(root.get("duration_s"))
                .append(" s after a ").append(WARMUP.toSeconds()).append(" s warm-up. Latency = picture shown − frame"
                        + " written by the guest (one clock); shown = frames written in the window that the viewer"
                        + " showed.\n\n");
        b.append("| case | impl | latency p50 / p90 / p99 / max ms | shown | guest fps / shown fps | notes |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (Map<String, Object> r : results) {
            StringBuilder notes = new StringBuilder();
            if (r.containsKey("viewer_env")) {
                notes.append("viewer env ").append(r.get("viewer_env")).append("; ");
            }
            if (r.containsKey("link_mbit_s_down")) {
                notes.append(String.format(Locale.ROOT, "link carried %.1f Mbit/s (stream %.1f), queued ≤ %s KiB; ",
                        r.get("link_mbit_s_down"), r.get("stream_mbit_s"), r.get("link_max_queued_kib")));
            }
            if (r.containsKey("server_mm_time_latency_ms")) {
                notes.append("session latency ").append(r.get("server_mm_time_latency_ms")).append(" ms; ");
            }
            Map<String, String> reader = (Map<String, String>) r.getOrDefault("reader", Map.of());
            if (reader.containsKey("resolution_ms")) {
                notes.append("screen polled every ").append(fmt(reader.get("resolution_ms"), "%.1f")).append(" ms; ");
            }
            if (r.containsKey("min_ms")) {
                // the fastest pictures: load makes frames later, never earlier, so these show a structural delay
                notes.append("min / p10 ").append(fmt(r.get("min_ms"), "%.1f")).append(" / ")
                        .append(fmt(r.get("p10_ms"), "%.1f")).append(" ms; ");
            }
            notes.append("load ").append(r.get("loadavg_start"));
            b.append("| ").append(r.get("case")).append(" | ").append(r.get("impl")).append(" | ")
                    .append(fmt(r.get("p50_ms"), "%.1f")).append(" / ").append(fmt(r.get("p90_ms"), "%.1f"))
                    .append(" / ").append(fmt(r.get("p99_ms"), "%.1f")).append(" / ").append(fmt(r.get("max_ms"), "%.1f"))
                    .append(" | ").append(fmt(r.get("shown_pct"), "%.1f")).append(" % (").append(r.get("shown"))
                    .append(" of ").append(r.get("written")).append(") | ").append(fmt(r.get("guest_fps"), "%.1f"))
                    .append(" / ").append(fmt(r.get("shown_fps"), "%.1f")).append(" | ").append(notes).append(" |\n");
        }
        return b.toString();
    }

    private static String fmt(Object v, String pattern) {
        if (v instanceof Number n) {
            return String.format(Locale.ROOT, pattern, n.doubleValue());
        }
        if (v instanceof String s) {
            try {
                return String.format(Locale.ROOT, pattern, Double.parseDouble(s));
            } catch (NumberFormatException e) {
                return s;
            }
        }
        return "–";
    }

    private static void awaitPort(InetSocketAddress address, Process p) throws Exception {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(address);
                return;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() - deadline > 0) {
                    throw new IOException("server not listening on " + address + " (alive: " + p.isAlive() + ")", e);
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
    }
}
