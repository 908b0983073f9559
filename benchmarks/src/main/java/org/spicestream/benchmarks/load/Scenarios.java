package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.SessionConfig;

/**
 * The load runner of docs/performance.md: runs every scenario against a fresh process of each implementation
 * ({@link Impl}: spice-streamd, the native relay in its read/write and splice modes, the libspice-server reference,
 * optionally the Java relay), alternating between them and repeating the round {@code --repeat} times, and writes
 * {@code results.json} (every run) and {@code results.md} (medians). The generator and the readers run in this JVM,
 * so their {@link System#nanoTime()} stamps compare; the processes under test are measured through /proc and jcmd.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.spicestream.benchmarks.load.Scenarios --out target/perf
 *     [--server-jar distribution/target/spice-streamd.jar] [--warmup 3] [--duration 10] [--latency-duration 20]
 *     [--only max-64k,fps60-1c,...] [--impls server,relay-rw,relay-splice,cserver,java-relay] [--repeat 3]
 *     [--server-args "--send-queue-bytes 8M"] [--java /path/to/java] [--jfr]
 *     [--server-jvm-args "-Xmx64m -XX:NativeMemoryTracking=summary"]
 *     [--variant "before=/path/before.jar" --variant "c1=spice-streamd.jar -XX:TieredStopAtLevel=1" ...]</pre>
 *
 * <p>A {@code --variant NAME=JAR [JVM options]} is one more spice-streamd implementation in the alternation (its jar,
 * the common {@code --server-jvm-args} and then its own options): a change is measured before/after in one run, e.g.
 * {@code --impls relay-rw --variant before=old.jar --variant after=new.jar}.
 */
public final class Scenarios {

    private static final Logger LOG = LoggerFactory.getLogger(Scenarios.class);

    /** Default warm-up before each measurement (JIT of a fresh server). */
    static final int DEFAULT_WARMUP_S = 5;
    /**
     * The fixed-rate 1-client case starts with this long at the maximum rate, so that the process under test is
     * compiled before the measurement; the rest of the warm-up runs at the case's rate. (With many clients the
     * fan-out warms the code fast enough, and a burst would only fill their queues.)
     */
    static final Duration BURST = Duration.ofSeconds(2);
    /** Default measurement length. */
    static final int DEFAULT_DURATION_S = 10;
    /** Default measurement length of the 1-client 60 fps latency case (the issue asks for 20 s). */
    static final int DEFAULT_LATENCY_DURATION_S = 20;
    /** The generator keeps sending this long after the measurement could have ended; it is closed before. */
    static final Duration GENERATOR_SLACK = Duration.ofSeconds(120);
    /** Longest wait for the server's port, the first frame at every client, or a process to exit after SIGTERM. */
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /**
     * After the warm-up, the measurement waits until the JIT compiler threads of the process under test used less
     * than {@link #JIT_QUIET_FRACTION} of a core over {@link #JIT_QUIET_WINDOW}, for at most {@link #MAX_JIT_WAIT}:
     * C2 keeps recompiling Netty's large inlined methods for tens of seconds on two busy cores, and its CPU would
     * otherwise be charged to the frames.
     */
    static final Duration JIT_QUIET_WINDOW = Duration.ofSeconds(1);
    static final double JIT_QUIET_FRACTION = 0.02;
    static final Duration MAX_JIT_WAIT = Duration.ofSeconds(60);
    /** Period of RSS samples during a measurement. */
    static final long RSS_SAMPLE_MS = 250;
    /** Poll period while waiting. */
    static final long POLL_MS = 20;
    /** 250 KiB, the frame of the 60 fps scenarios. */
    static final int FRAME_250K = 250 * 1024;
    static final int KIB = 1024;
    static final int MIB = 1024 * 1024;
    static final double MB = 1e6;
    /** Rate of the slow client. */
    static final double SLOW_FPS = 10;

    /** What is measured: the server, or a baseline that relays the same bytes. */
    enum Impl {
        SERVER("server", "spice-streamd"),
        RELAY_RW("relay-rw", "native relay (rw)"),
        RELAY_SPLICE("relay-splice", "native relay (splice)"),
        C_SERVER("cserver", "libspice-server"),
        JAVA_RELAY("java-relay", "Java relay");

        final String id;
        final String label;

        Impl(String id, String label) {
            this.id = id;
            this.label = label;
        }

        /** Speaks SPICE (read by {@link SpiceLoadClient}); the relays carry the guest stream unchanged. */
        boolean spice() {
            return this == SERVER || this == C_SERVER;
        }

        boolean java() {
            return this == SERVER || this == JAVA_RELAY;
        }

        static Impl of(String id) {
            for (Impl i : values()) {
                if (i.id.equals(id)) {
                    return i;
                }
            }
            throw new IllegalArgumentException("unknown implementation " + id + " (server, relay-rw, relay-splice,"
                    + " cserver, java-relay)");
        }
    }

    /**
     * One implementation in the alternation: a baseline, or a spice-streamd build with its JVM options.
     *
     * @param id key in results.json (the {@link Impl} id, or the variant's name)
     * @param jar the server jar (spice-streamd only)
     * @param jvmArgs the server's JVM options (spice-streamd only)
     */
    record Target(Impl impl, String id, String label, Path jar, List<String> jvmArgs) {
        static Target of(Impl impl) {
            return new Target(impl, impl.id, impl.label, null, List.of());
        }

        /** Parses {@code NAME=JAR [JVM options]}; the common options come first, so the variant's win. */
        static Target variant(String spec, List<String> commonJvmArgs) {
            int eq = spec.indexOf('=');
            String[] words = eq < 0 ? new String[0] : spec.substring(eq + 1).trim().split("\\s+");
            if (eq <= 0 || words.length == 0 || words[0].isEmpty()) {
                throw new IllegalArgumentException("--variant NAME=JAR [JVM options], got " + spec);
            }
            String name = spec.substring(0, eq).trim();
            List<String> jvm = new ArrayList<>(commonJvmArgs);
            jvm.addAll(Arrays.asList(words).subList(1, words.length));
            return new Target(Impl.SERVER, name, Impl.SERVER.label + " " + name, Path.of(words[0]), List.copyOf(jvm));
        }
    }

    /** The baseline every "× raw" figure divides by. */
    static final Impl RAW = Impl.RELAY_RW;
    /** Implementations run by default (the libspice-server reference only where it builds). */
    static final List<Impl> DEFAULT_IMPLS = List.of(Impl.SERVER, Impl.RELAY_RW, Impl.RELAY_SPLICE, Impl.C_SERVER);

    /** One scenario of the issue. */
    record Scenario(String name, String title, int frameSize, double fps, int clients, int slowClients,
            boolean latencyCase, boolean relayBaseline, String target) {
        boolean waitForStart() {
            return clients > 0;
        }
    }

    static final List<Scenario> ALL = List.of(
            new Scenario("max-64k", "1 client, 64 KiB frames, max rate", 64 * KIB, 0, 1, 0, false, true,
                    ">= 95 % of raw MB/s"),
            new Scenario("max-256k", "1 client, 256 KiB frames, max rate", 256 * KIB, 0, 1, 0, false, true,
                    ">= 95 % of raw MB/s"),
            new Scenario("max-1m", "1 client, 1 MiB frames, max rate", MIB, 0, 1, 0, false, true,
                    ">= 95 % of raw MB/s"),
            new Scenario("fps60-1c", "1 client, 250 KiB at 60 fps", FRAME_250K, 60, 1, 0, true, true,
                    "p50 <= 0.5 ms, p99 <= 2 ms, CPU/frame <= 2x raw"),
            new Scenario("fps60-4c", "4 clients, 250 KiB at 60 fps", FRAME_250K, 60, 4, 0, false, true,
                    "CPU/frame <= 1.5x raw"),
            new Scenario("fps60-16c", "16 clients, 250 KiB at 60 fps", FRAME_250K, 60, 16, 0, false, true,
                    "0 drops, p99 <= 5 ms, RSS <= 256 MB"),
            new Scenario("fps60-64c", "64 clients, 250 KiB at 60 fps", FRAME_250K, 60, 64, 0, false, true,
                    "report fps, drops, p99; no client starves another"),
            new Scenario("slow-1of4", "1 slow client (10 fps) + 3 normal, 250 KiB at 60 fps", FRAME_250K, 60, 4, 1,
                    false, false, "the 3 keep 60 fps and p99 <= 5 ms; slow one's age p99 <= 250 ms; memory bounded"),
            new Scenario("slow-alone", "1 slow client (10 fps) alone, 250 KiB at 60 fps", FRAME_250K, 60, 1, 1,
                    false, false, "age of what it gets p99 <= 250 ms (it paces the guest)"),
            new Scenario("guest-max-no-client", "guest at max rate, no client, 256 KiB frames", 256 * KIB, 0, 0, 0,
                    false, false, "reads pause at the bound; RSS flat"));

    private final Path out;
    private final Path serverJar;
    private final String java;
    private final Duration warmup;
    private final Duration duration;
    private final Duration latencyDuration;
    private final List<String> serverArgs;
    /** JVM options of the server process (before -jar); with NativeMemoryTracking its summary is saved. */
    private List<String> serverJvmArgs = List.of();
    /** Record a JFR profile of the process under test during each measurement (logs/CASE.jfr). */
    private boolean jfr;
    private List<Impl> impls = DEFAULT_IMPLS;
    /** spice-streamd variants run besides (or instead of) the server of {@code --server-jar}. */
    private List<String> variantSpecs = List.of();
    private List<Target> targets = List.of();
    private int repeat = 1;
    /** Built native programs, by implementation. */
    private final Map<Impl, Path> natives = new LinkedHashMap<>();

    Scenarios(Path out, Path serverJar, String java, Duration warmup, Duration duration, Duration latencyDuration,
            List<String> serverArgs) {
        this.out = out;
        this.serverJar = serverJar;
        this.java = java;
        this.warmup = warmup;
        this.duration = duration;
        this.latencyDuration = latencyDuration;
        this.serverArgs = serverArgs;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("target/perf");
        Path serverJar = Path.of("distribution/target/spice-streamd.jar");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int warmup = DEFAULT_WARMUP_S;
        int duration = DEFAULT_DURATION_S;
        int latencyDuration = DEFAULT_LATENCY_DURATION_S;
        Set<String> only = null;
        List<String> serverArgs = List.of();
        boolean jfr = false;
        List<String> serverJvmArgs = List.of();
        List<Impl> impls = null;
        List<String> variants = new ArrayList<>();
        int repeat = 1;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--out" -> out = Path.of(v);
                case "--server-jar" -> serverJar = Path.of(v);
                case "--java" -> java = v;
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--duration" -> duration = Integer.parseInt(v);
                case "--latency-duration" -> latencyDuration = Integer.parseInt(v);
                case "--only" -> only = Set.of(v.split(","));
                case "--impls" -> impls = Arrays.stream(v.split(",")).map(Impl::of).toList();
                case "--repeat" -> repeat = Integer.parseInt(v);
                case "--variant" -> variants.add(v);
                case "--jfr" -> jfr = true;
                case "--server-jvm-args" -> serverJvmArgs = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
                case "--server-args" -> serverArgs = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--out --server-jar --java --warmup --duration --latency-duration --only --impls --repeat"
                        + " --server-args --server-jvm-args --variant --jfr)");
            }
            if (!args[i].equals("--jfr")) {
                i++;
            }
        }
        if ((impls == null || impls.contains(Impl.SERVER)) && !Files.isRegularFile(serverJar)) {
            throw new IllegalArgumentException(serverJar + " not found: mvn -q -pl distribution -am package -DskipTests");
        }
        Files.createDirectories(out.resolve("logs"));
        Scenarios s = new Scenarios(out, serverJar, java, Duration.ofSeconds(warmup), Duration.ofSeconds(duration),
                Duration.ofSeconds(latencyDuration), serverArgs);
        s.jfr = jfr;
        s.serverJvmArgs = serverJvmArgs;
        s.repeat = Math.max(1, repeat);
        s.variantSpecs = List.copyOf(variants);
        s.buildNatives(impls);
        List<Scenario> selected = new ArrayList<>();
        for (Scenario sc : ALL) {
            if (only == null || only.contains(sc.name())) {
                selected.add(sc);
            }
        }
        Path report = s.runAll(selected);
        System.out.println(report); // the one line a user of the runner needs
    }

    /**
     * Builds the native programs the chosen implementations need into {@code out/native}. Without an explicit
     * list, a libspice-server reference that does not build is left out with a warning; asked for, it is an error.
     */
    void buildNatives(List<Impl> requested) throws IOException, InterruptedException {
        List<Impl> chosen = new ArrayList<>(requested == null ? DEFAULT_IMPLS : requested);
        Path dir = out.resolve("native");
        if (chosen.contains(Impl.RELAY_RW) || chosen.contains(Impl.RELAY_SPLICE)) {
            Path relay = NativeTools.buildRelay(dir);
            natives.put(Impl.RELAY_RW, relay);
            natives.put(Impl.RELAY_SPLICE, relay);
        }
        if (chosen.contains(Impl.C_SERVER)) {
            try {
                natives.put(Impl.C_SERVER, NativeTools.buildCServer(dir));
            } catch (IOException e) {
                if (requested != null) {
                    throw e;
                }
                LOG.warn("libspice-server reference left out: {}", e.getMessage());
                chosen.remove(Impl.C_SERVER);
            }
        }
        impls = List.copyOf(chosen);
        List<Target> t = new ArrayList<>();
        for (String spec : variantSpecs) {
            Target v = Target.variant(spec, serverJvmArgs);
            if (!Files.isRegularFile(v.jar())) {
                throw new IllegalArgumentException("variant " + v.id() + ": " + v.jar() + " not found");
            }
            t.add(v);
        }
        for (Impl i : impls) {
            t.add(i == Impl.SERVER ? new Target(i, i.id, i.label, serverJar, serverJvmArgs) : Target.of(i));
        }
        if (t.stream().map(Target::id).distinct().count() != t.size()) {
            throw new IllegalArgumentException("implementation names must differ: " + t.stream().map(Target::id).toList());
        }
        targets = List.copyOf(t);
    }

    /** The implementations a scenario runs: the baselines only where it compares with them. */
    List<Target> implsFor(Scenario sc) {
        List<Target> l = new ArrayList<>();
        for (Target t : targets) {
            Impl i = t.impl();
            boolean baseline = i == Impl.RELAY_RW || i == Impl.RELAY_SPLICE || i == Impl.JAVA_RELAY;
            if (i == Impl.SERVER || (baseline && sc.relayBaseline()) || (i == Impl.C_SERVER && sc.clients() > 0)) {
                l.add(t);
            }
        }
        return l;
    }

    @SuppressWarnings("unchecked")
    Path runAll(List<Scenario> scenarios) throws Exception {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("started", Instant.now().toString());
        root.put("cpus", Runtime.getRuntime().availableProcessors());
        root.put("loadavg_before", loadAverage());
        root.put("java", System.getProperty("java.version"));
        root.put("warmup_s", warmup.toSeconds());
        root.put("duration_s", duration.toSeconds());
        root.put("server_args", String.join(" ", serverArgs));
        root.put("server_jvm_args", String.join(" ", serverJvmArgs));
        root.put("impls", targets.stream().map(Target::id).toList());
        Map<String, Object> variantInfo = new LinkedHashMap<>();
        for (Target t : targets) {
            if (t.jar() != null) {
                variantInfo.put(t.id(), t.jar() + (t.jvmArgs().isEmpty() ? "" : " " + String.join(" ", t.jvmArgs())));
            }
        }
        root.put("servers", variantInfo);
        root.put("repeat", repeat);
        List<Object> results = new ArrayList<>();
        root.put("results", results);
        for (Scenario sc : scenarios) {
            List<Target> order = implsFor(sc);
            Map<Target, List<Map<String, Object>>> runs = new LinkedHashMap<>();
            for (int round = 0; round < repeat; round++) {
                for (Target impl : order) { // alternating: every implementation once per round
                    Map<String, Object> run = runCase(sc, impl, round);
                    runs.computeIfAbsent(impl, k -> new ArrayList<>()).add(run);
                }
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("scenario", sc.name());
            r.put("title", sc.title());
            r.put("target", sc.target());
            Map<String, Object> medians = new LinkedHashMap<>();
            for (Map.Entry<Target, List<Map<String, Object>>> e : runs.entrySet()) {
                Map<String, Object> m = Medians.of(e.getValue());
                m.put("impl", e.getKey().label());
                m.put("impl_id", e.getKey().id());
                medians.put(e.getKey().id(), m);
            }
            r.put("median", medians);
            Map<String, Object> raw = (Map<String, Object>) medians.get(RAW.id);
            if (raw != null) {
                for (Object o : medians.values()) {
                    Map<String, Object> m = (Map<String, Object>) o;
                    m.put("mbps_ratio", ratio(m.get("client_mbps"), raw.get("client_mbps")));
                    m.put("cpu_per_frame_ratio", ratio(m.get("cpu_us_per_frame"), raw.get("cpu_us_per_frame")));
                    m.put("cpu_per_frame_excl_jit_ratio", ratio(m.get("cpu_us_per_frame_excl_jit"),
                            raw.get("cpu_us_per_frame_excl_jit")));
                }
            }
            Map<String, Object> all = new LinkedHashMap<>();
            runs.forEach((k, v) -> all.put(k.id(), v));
            r.put("runs", all);
            results.add(r);
            // written after every scenario, so that a long run that is stopped keeps what it measured
            Files.writeString(out.resolve("results.json"), Json.write(root), StandardCharsets.UTF_8);
        }
        root.put("results", results);
        root.put("loadavg_after", loadAverage());
        Files.writeString(out.resolve("results.json"), Json.write(root), StandardCharsets.UTF_8);
        Path md = out.resolve("results.md");
        Files.writeString(md, Markdown.render(root, results), StandardCharsets.UTF_8);
        return md;
    }

    private static Double ratio(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y && y.doubleValue() > 0) {
            return x.doubleValue() / y.doubleValue();
        }
        return null;
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** One scenario against one implementation, in fresh processes. */
    Map<String, Object> runCase(Scenario sc, Target target, int round) throws Exception {
        Impl impl = target.impl();
        boolean relay = !impl.spice();
        String label = sc.name() + "-" + target.id() + (repeat > 1 ? "-" + (round + 1) : "");
        LOG.info("case {}", label);
        Duration measure = sc.latencyCase() ? latencyDuration : duration;
        Path dir = Files.createTempDirectory("spice-perf-");
        Path socket = dir.resolve("guest.sock");
        int port = freePort();
        GuestLoadGenerator gen = GuestLoadGenerator.start(new GuestLoadGenerator.Options(socket, sc.frameSize(),
                sc.fps(), warmup.plus(measure).plus(GENERATOR_SLACK), relay || sc.waitForStart(),
                sc.fps() > 0 && sc.clients() == 1 ? BURST : Duration.ZERO));
        Process process = null;
        SpiceLoadClient clients = null;
        GuestStreamReader readers = null;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("impl", target.label());
        r.put("round", round + 1);
        r.put("loadavg_start", loadAverage());
        try {
            List<String> cmd = new ArrayList<>();
            String readers0 = Integer.toString(Math.max(1, sc.clients()));
            if (impl == Impl.JAVA_RELAY) {
                cmd.addAll(List.of(java, "-cp", System.getProperty("java.class.path"), RawRelay.class.getName(),
                        socket.toString(), Integer.toString(port), readers0));
            } else if (impl == Impl.RELAY_RW || impl == Impl.RELAY_SPLICE) {
                cmd.addAll(List.of(natives.get(impl).toString(), impl == Impl.RELAY_RW ? "rw" : "splice",
                        socket.toString(), Integer.toString(port), readers0));
            } else if (impl == Impl.C_SERVER) {
                cmd.addAll(List.of(natives.get(impl).toString(), socket.toString(), Integer.toString(port)));
            } else {
                cmd.add(java);
                int max = Math.max(SessionConfig.DEFAULT_MAX_CLIENTS_PER_CHANNEL, sc.clients());
                cmd.addAll(target.jvmArgs());
                cmd.addAll(List.of("-jar", target.jar().toString(), "--listen", "127.0.0.1:" + port,
                        "--disable-ticketing", "--device", "unix:" + socket, "--session-policy", "share",
                        "--max-clients", Integer.toString(max), "--max-sessions", Integer.toString(max),
                        "--log-level", "warn"));
                cmd.addAll(serverArgs);
            }
            r.put("command", String.join(" ", cmd));
            int metricsPort = impl == Impl.SERVER ? freePort() : -1;
            if (impl == Impl.SERVER) {
                cmd.addAll(List.of("--metrics", "127.0.0.1:" + metricsPort));
            }
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(out.resolve("logs").resolve(label + ".log").toFile()).start();
            long pid = process.pid();
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
            List<FrameStats> stats;
            if (relay) {
                readers = connectWithRetry(address, Math.max(1, sc.clients()));
                stats = readers.stats();
            } else {
                awaitPort(address, process);
                if (sc.clients() > 0) {
                    clients = SpiceLoadClient.connect(new SpiceLoadClient.Options(address, sc.clients(),
                            sc.slowClients(), SLOW_FPS, true));
                    stats = clients.stats();
                } else {
                    stats = List.of();
                }
            }
            SpiceLoadClient linked = clients;
            awaitFirstFrames(gen, stats, process, () -> linked == null ? null : linked.firstFailure());
            long warmStart = System.nanoTime();
            Thread.sleep(warmup.toMillis());
            awaitJitQuiet(pid);
            r.put("warmup_s", (System.nanoTime() - warmStart) / 1e9);

            if (jfr && impl.java()) {
                ProcessProbe.startJfr(pid, out.resolve("logs").resolve(label + ".jfr").toAbsolutePath(), measure);
            }
            double serverDropped0 = metricsPort < 0 ? 0 : ServerMetrics.sum(metricsPort, ServerMetrics.DEVICE_DROPPED);
            long[] us0 = ProcessProbe.userSystemNanos(pid);
            long cs0 = ProcessProbe.contextSwitches(pid);
            long cpu0 = us0[0] + us0[1];
            long jit0 = ProcessProbe.compilerCpuNanos(pid);
            long loop0 = impl == Impl.SERVER ? ProcessProbe.eventLoopCpuNanos(pid) : cpu0;
            long rssStart = ProcessProbe.rssBytes(pid);
            // the client and guest counters start and stop together, closest to t0 and t1
            for (FrameStats s : stats) {
                s.reset();
            }
            long frames0 = gen.framesSent();
            long bytes0 = gen.bytesSent();
            long rssMax = rssStart;
            long t0 = System.nanoTime();
            long end = t0 + measure.toNanos();
            while (System.nanoTime() - end < 0) {
                Thread.sleep(Math.min(RSS_SAMPLE_MS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
                rssMax = Math.max(rssMax, ProcessProbe.rssBytes(pid));
            }
            long t1 = System.nanoTime();
            long frames1 = gen.framesSent();
            long bytes1 = gen.bytesSent();
            List<FrameStats.Snapshot> snaps = new ArrayList<>();
            for (FrameStats s : stats) {
                snaps.add(s.snapshot());
            }
            long[] us1 = ProcessProbe.userSystemNanos(pid);
            long cs1 = ProcessProbe.contextSwitches(pid);
            long cpu1 = us1[0] + us1[1];
            long jit1 = ProcessProbe.compilerCpuNanos(pid);
            long loop1 = impl == Impl.SERVER ? ProcessProbe.eventLoopCpuNanos(pid) : cpu1;
            long rssEnd = ProcessProbe.rssBytes(pid);
            if (metricsPort >= 0) {
                r.put("server_frames_dropped", ServerMetrics.sum(metricsPort, ServerMetrics.DEVICE_DROPPED)
                        - serverDropped0);
                r.put("server_client_frames_dropped_since_start",
                        ServerMetrics.values(metricsPort, ServerMetrics.CLIENT_DROPPED));
            }
            double seconds = (t1 - t0) / 1e9;
            long guestFrames = frames1 - frames0;
            r.put("seconds", seconds);
            r.put("guest_fps", guestFrames / seconds);
            r.put("guest_mbps", (bytes1 - bytes0) / MB / seconds);
            r.put("cpu_percent", 100.0 * (cpu1 - cpu0) / (t1 - t0));
            r.put("cpu_us_per_frame", guestFrames > 0 ? (cpu1 - cpu0) / 1e3 / guestFrames : null);
            r.put("jit_cpu_percent", 100.0 * (jit1 - jit0) / (t1 - t0));
            r.put("cpu_us_per_frame_excl_jit",
                    guestFrames > 0 ? (cpu1 - cpu0 - (jit1 - jit0)) / 1e3 / guestFrames : null);
            // the server's event loops are its data path; a baseline (the Java relay has no Netty loop) counts whole
            r.put("cpu_us_per_frame_event_loops", guestFrames > 0 ? (loop1 - loop0) / 1e3 / guestFrames : null);
            r.put("cpu_user_percent", 100.0 * (us1[0] - us0[0]) / (t1 - t0));
            r.put("cpu_system_percent", 100.0 * (us1[1] - us0[1]) / (t1 - t0));
            r.put("context_switches_per_frame", guestFrames > 0 ? (double) (cs1 - cs0) / guestFrames : null);
            r.put("rss_start_mb", rssStart / MB);
            r.put("rss_max_mb", rssMax / MB);
            r.put("rss_end_mb", rssEnd / MB);
            long[] anonFile = ProcessProbe.rssAnonFileBytes(pid);
            r.put("rss_anon_end_mb", anonFile[0] / MB);
            r.put("rss_file_end_mb", anonFile[1] / MB);
            summarize(r, snaps, sc.slowClients(), seconds, sc.fps());
            if (clients != null && clients.firstFailure() != null) {
                r.put("client_failure", clients.firstFailure().toString());
            }
            if (impl == Impl.SERVER && String.join(" ", target.jvmArgs()).contains("NativeMemoryTracking")) {
                Files.writeString(out.resolve("logs").resolve(label + "-nmt.txt"), ProcessProbe.nativeMemory(pid));
            }
            if (impl.java()) {
                r.put("heap_after_gc_mb", ProcessProbe.heapAfterGcBytes(pid) / MB);
            }
            r.put("loadavg_end", loadAverage());
        } finally {
            closeQuietly(clients);
            closeQuietly(readers);
            closeQuietly(gen);
            if (process != null) {
                r.put("exit_code", stop(process));
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
        LOG.info("{}: {}", label, r);
        return r;
    }

    /**
     * Client figures: all normal clients together, slow clients apart. At a fixed rate the normal clients'
     * latencies are corrected for coordinated omission (HdrHistogram: a frame later than one period stands for
     * the frames that should have arrived meanwhile); the uncorrected figures are kept as {@code latency_raw_*}.
     */
    static void summarize(Map<String, Object> r, List<FrameStats.Snapshot> snaps, int slow, double seconds,
            double rate) {
        Histogram normal = FrameStats.newHistogram();
        Histogram slowHist = FrameStats.newHistogram();
        long bytes = 0;
        double minFps = Double.MAX_VALUE;
        double maxFps = 0;
        double sumFps = 0;
        int n = 0;
        List<Long> missing = new ArrayList<>();
        List<Long> slowMissing = new ArrayList<>();
        List<Double> slowFps = new ArrayList<>();
        for (int i = 0; i < snaps.size(); i++) {
            FrameStats.Snapshot s = snaps.get(i);
            double fps = s.frames() / seconds;
            if (i < slow) {
                slowHist.add(s.latency());
                slowMissing.add(s.missing());
                slowFps.add(fps);
                continue;
            }
            normal.add(s.latency());
            bytes += s.bytes();
            minFps = Math.min(minFps, fps);
            maxFps = Math.max(maxFps, fps);
            sumFps += fps;
            n++;
            missing.add(s.missing());
        }
        r.put("clients", n);
        if (slow > 0) {
            r.put("slow_fps", slowFps);
            r.put("slow_dropped", slowMissing);
            putLatency(r, "slow_latency", slowHist);
        }
        if (n == 0) {
            return;
        }
        r.put("client_fps_mean", sumFps / n);
        r.put("client_fps_min", minFps);
        r.put("client_fps_max", maxFps);
        r.put("client_mbps", bytes / MB / seconds);
        r.put("client_mbps_each", bytes / MB / seconds / n);
        if (rate > 0) {
            long interval = (long) (TimeUnit.SECONDS.toNanos(1) / rate);
            putLatency(r, "latency", normal.copyCorrectedForCoordinatedOmission(interval));
            putLatency(r, "latency_raw", normal);
        } else {
            putLatency(r, "latency", normal);
        }
        r.put("dropped_per_client", missing);
        r.put("dropped_total", missing.stream().mapToLong(Long::longValue).sum());
    }

    private static void putLatency(Map<String, Object> r, String prefix, Histogram h) {
        r.put(prefix + "_frames", h.getTotalCount());
        r.put(prefix + "_p50_ms", h.getValueAtPercentile(50) / 1e6);
        r.put(prefix + "_p90_ms", h.getValueAtPercentile(90) / 1e6);
        r.put(prefix + "_p99_ms", h.getValueAtPercentile(99) / 1e6);
        r.put(prefix + "_p999_ms", h.getValueAtPercentile(99.9) / 1e6);
        r.put(prefix + "_max_ms", h.getMaxValue() / 1e6);
    }

    private static void awaitJitQuiet(long pid) throws Exception {
        long deadline = System.nanoTime() + MAX_JIT_WAIT.toNanos();
        long before = ProcessProbe.compilerCpuNanos(pid);
        while (System.nanoTime() - deadline < 0) {
            Thread.sleep(JIT_QUIET_WINDOW.toMillis());
            long now = ProcessProbe.compilerCpuNanos(pid);
            if (now - before <= JIT_QUIET_FRACTION * JIT_QUIET_WINDOW.toNanos()) {
                return;
            }
            before = now;
        }
        LOG.warn("JIT of {} still busy after {}", pid, MAX_JIT_WAIT);
    }

    private static GuestStreamReader connectWithRetry(InetSocketAddress address, int n) throws Exception {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            try {
                return GuestStreamReader.connect(address, n);
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(POLL_MS);
            }
        }
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
                Thread.sleep(POLL_MS);
            }
        }
    }

    private static void awaitFirstFrames(GuestLoadGenerator gen, List<FrameStats> stats, Process p,
            java.util.function.Supplier<Throwable> clientFailure) throws Exception {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            boolean all = gen.framesSent() > 0;
            for (FrameStats s : stats) {
                all &= s.lastSequence() >= 0;
            }
            if (all) {
                return;
            }
            Throwable failed = clientFailure.get();
            if (failed != null) {
                throw new IOException("a client failed before the first frame", failed);
            }
            if (!p.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IOException("no frames within " + STARTUP_TIMEOUT + " (process alive: " + p.isAlive() + ")");
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** SIGTERM (Process.destroy on Linux), then the exit code; SIGKILL after {@link #STOP_TIMEOUT}. */
    static int stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor();
        }
        return p.exitValue();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("close failed: {}", e.toString());
            }
        }
    }

    static String fmt(Object v, String pattern) {
        return v instanceof Number n ? String.format(Locale.ROOT, pattern, n.doubleValue()) : "–";
    }
}
