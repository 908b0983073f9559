package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host scenarios of docs/performance.md: one spice-streamd process serving many VMs added through its control
 * API, each with one generator guest (1920x1080 stamps, {@code --frame-size} bytes at {@code --fps}) and one
 * protocol-level viewer that reaches its VM through the shared port by {@code CONNECT vm-N:5900}.
 *
 * <ul>
 *   <li>{@code vms}: {@code --vms} VMs stream at once; per viewer fps, frames missing, latency, and the server's
 *       RSS and threads (before any VM, after adding them, during the measurement);
 *   <li>{@code churn}: {@code --streaming} VMs stream while {@code --churn} other VMs are added and removed one after
 *       the other; frames missing on the streaming ones, and fds, threads, RSS before and after.
 * </ul>
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.spicestream.benchmarks.load.VmScenarios --out target/perf-vms
 *     [--server-jar distribution/target/spice-streamd.jar] [--vms 64] [--fps 30] [--frame-size 256000]
 *     [--warmup 10] [--duration 30] [--streaming 8] [--churn 100] [--only vms,churn]
 *     [--server-jvm-args "-Xmx256m"]</pre>
 */
public final class VmScenarios {

    static final Pattern READY = Pattern.compile("spice-streamd ready: connect with remote-viewer spice://"
            + "127\\.0\\.0\\.1:(\\d+)");
    static final Pattern THREADS = Pattern.compile("Threads:\\s+(\\d+)");
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    static final long SAMPLE_MS = 250;
    /** Longest wait after the churn for fds and threads to return to the baseline. */
    static final Duration SETTLE_MAX = Duration.ofSeconds(10);

    private final Path out;
    private final Path jar;
    private final String java;
    private final List<String> jvmArgs;
    private Process server;
    private long pid;
    private int port;

    VmScenarios(Path out, Path jar, String java, List<String> jvmArgs) {
        this.out = out;
        this.jar = jar;
        this.java = java;
        this.jvmArgs = jvmArgs;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("target", "perf-vms");
        Path jar = Path.of("distribution", "target", "spice-streamd.jar");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> jvm = List.of();
        int vms = 64;
        int streaming = 8;
        int churn = 100;
        double fps = 30;
        int frameSize = 250 * 1024;
        int warmup = 10;
        int duration = 30;
        List<String> only = List.of("vms", "churn");
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--out" -> out = Path.of(v);
                case "--server-jar" -> jar = Path.of(v);
                case "--java" -> java = v;
                case "--server-jvm-args" -> jvm = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
                case "--vms" -> vms = Integer.parseInt(v);
                case "--streaming" -> streaming = Integer.parseInt(v);
                case "--churn" -> churn = Integer.parseInt(v);
                case "--fps" -> fps = Double.parseDouble(v);
                case "--frame-size" -> frameSize = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--duration" -> duration = Integer.parseInt(v);
                case "--only" -> only = List.of(v.split(","));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            i++;
        }
        Files.createDirectories(out);
        VmScenarios s = new VmScenarios(out, jar, java, jvm);
        StringBuilder md = new StringBuilder();
        if (only.contains("vms")) {
            md.append(s.streamingVms(vms, fps, frameSize, warmup, duration)).append('\n');
        }
        if (only.contains("churn")) {
            md.append(s.churn(streaming, churn, fps, frameSize, warmup)).append('\n');
        }
        Files.writeString(out.resolve("results.md"), md.toString());
        System.out.println(md);
    }

    /** N VMs, one viewer each, all streaming. */
    String streamingVms(int n, double fps, int frameSize, int warmupS, int durationS) throws Exception {
        Path dir = Files.createTempDirectory("vm-bench-");
        List<GuestLoadGenerator> guests = new ArrayList<>();
        Duration total = Duration.ofSeconds(warmupS + durationS + 120);
        try {
            startServer(dir);
            long threadsStart = threads(pid);
            long rssStart = ProcessProbe.rssBytes(pid);
            List<String> hosts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Path sock = dir.resolve("g" + i + ".sock");
                guests.add(GuestLoadGenerator.start(new GuestLoadGenerator.Options(sock, frameSize, fps, total, true)));
                put(dir, "vm-" + i, "{\"devices\":[\"unix:" + sock + "\"],\"disableTicketing\":true}");
                hosts.add("vm-" + i);
            }
            long threadsVms = threads(pid);
            long rssVms = ProcessProbe.rssBytes(pid);
            try (SpiceLoadClient clients = SpiceLoadClient.connect(new SpiceLoadClient.Options(
                    new InetSocketAddress("127.0.0.1", port), n, 0, 0, false, hosts))) {
                Thread.sleep(TimeUnit.SECONDS.toMillis(warmupS));
                clients.stats().forEach(FrameStats::reset);
                long cpu0 = ProcessProbe.cpuNanos(pid);
                long t0 = System.nanoTime();
                long rssMax = 0;
                long threadsMax = 0;
                while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(durationS)) {
                    Thread.sleep(SAMPLE_MS);
                    rssMax = Math.max(rssMax, ProcessProbe.rssBytes(pid));
                    threadsMax = Math.max(threadsMax, threads(pid));
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                double cpu = (ProcessProbe.cpuNanos(pid) - cpu0) / 1e9 / seconds;
                List<FrameStats.Snapshot> snaps = clients.stats().stream().map(FrameStats::snapshot).toList();
                org.HdrHistogram.Histogram all = FrameStats.newHistogram();
                double minFps = Double.MAX_VALUE;
                double maxFps = 0;
                long frames = 0;
                long missing = 0;
                for (FrameStats.Snapshot s : snaps) {
                    all.add(s.latency());
                    double f = s.frames() / seconds;
                    minFps = Math.min(minFps, f);
                    maxFps = Math.max(maxFps, f);
                    frames += s.frames();
                    missing += s.missing();
                }
                if (clients.firstFailure() != null) {
                    throw new IOException("a viewer failed", clients.firstFailure());
                }
                String md = String.format(Locale.ROOT, "### %d VMs x 1 viewer, %d B frames at %.0f fps (%s)%n%n"
                        + "| VMs | frames/s total | viewer fps min / max | missing | latency p50 / p99 / max ms |"
                        + " server CPU %% of a core | RSS start / with VMs / max MB | threads start / with VMs /"
                        + " max |%n|---|---|---|---|---|---|---|---|%n"
                        + "| %d | %.0f | %.1f / %.1f | %d | %.2f / %.2f / %.2f | %.0f | %.0f / %.0f / %.0f | %d / %d / %d |%n",
                        n, frameSize, fps, jvmArgs.isEmpty() ? "default JVM options" : String.join(" ", jvmArgs),
                        n, frames / seconds, minFps, maxFps, missing, all.getValueAtPercentile(50) / 1e6,
                        all.getValueAtPercentile(99) / 1e6, all.getMaxValue() / 1e6, cpu * 100, rssStart / 1e6, rssVms / 1e6,
                        rssMax / 1e6, threadsStart, threadsVms, threadsMax);
                return md;
            }
        } finally {
            for (GuestLoadGenerator g : guests) {
                g.close();
            }
            stopServer();
        }
    }

    /** S streaming VMs while C others are added and removed. */
    String churn(int streamingVms, int churnVms, double fps, int frameSize, int warmupS) throws Exception {
        Path dir = Files.createTempDirectory("vm-churn-");
        List<GuestLoadGenerator> guests = new ArrayList<>();
        try {
            startServer(dir);
            List<String> hosts = new ArrayList<>();
            for (int i = 0; i < streamingVms; i++) {
                Path sock = dir.resolve("g" + i + ".sock");
                guests.add(GuestLoadGenerator.start(new GuestLoadGenerator.Options(sock, frameSize, fps,
                        Duration.ofMinutes(30), true)));
                put(dir, "s-" + i, "{\"devices\":[\"unix:" + sock + "\"],\"disableTicketing\":true}");
                hosts.add("s-" + i);
            }
            try (SpiceLoadClient clients = SpiceLoadClient.connect(new SpiceLoadClient.Options(
                    new InetSocketAddress("127.0.0.1", port), streamingVms, 0, 0, false, hosts))) {
                Thread.sleep(TimeUnit.SECONDS.toMillis(warmupS));
                System.gc();
                // jcmd first: its attach listener (a thread and a socket) must be in the baseline
                long heap0 = ProcessProbe.heapAfterGcBytes(pid);
                long fds0 = fds(pid);
                long threads0 = threads(pid);
                clients.stats().forEach(FrameStats::reset);
                long t0 = System.nanoTime();
                for (int i = 0; i < churnVms; i++) {
                    // a VM whose guest socket the server listens on: nothing connects, as with a guest not booted yet
                    put(dir, "c-" + i, "{\"devices\":[\"unix:" + dir.resolve("c" + i + ".sock")
                            + "?listen\"],\"listen\":\"127.0.0.1:0\",\"disableTicketing\":true}");
                    delete(dir, "c-" + i);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                // closed sockets and Netty's global executor (it ends its thread after a quiet second) settle
                long settle0 = System.nanoTime();
                long fds1 = fds(pid);
                long threads1 = threads(pid);
                while ((fds1 > fds0 || threads1 > threads0) && System.nanoTime() - settle0 < SETTLE_MAX.toNanos()) {
                    Thread.sleep(SAMPLE_MS);
                    fds1 = fds(pid);
                    threads1 = threads(pid);
                }
                long heap1 = ProcessProbe.heapAfterGcBytes(pid);
                long frames = 0;
                long missing = 0;
                for (FrameStats s : clients.stats()) {
                    frames += s.snapshot().frames();
                    missing += s.snapshot().missing();
                }
                return String.format(Locale.ROOT, "### %d VMs added and removed while %d stream (%d B at %.0f fps)%n%n"
                        + "| add+remove pairs | time s | frames on the streaming VMs | missing | fds before / after |"
                        + " threads before / after | heap after GC before / after MB |%n|---|---|---|---|---|---|---|%n"
                        + "| %d | %.1f | %d | %d | %d / %d | %d / %d | %.1f / %.1f |%n",
                        churnVms, streamingVms, frameSize, fps, churnVms, seconds, frames, missing, fds0, fds1,
                        threads0, threads1, heap0 / 1e6, heap1 / 1e6);
            }
        } finally {
            for (GuestLoadGenerator g : guests) {
                g.close();
            }
            stopServer();
        }
    }

    private void startServer(Path dir) throws Exception {
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", jar.toAbsolutePath().toString(), "--listen", "127.0.0.1:0", "--control",
                "unix:" + dir.resolve("c.sock")));
        Path log = out.resolve("server-" + System.nanoTime() + ".log");
        server = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        pid = server.pid();
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            Matcher m = READY.matcher(Files.readString(log));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
                return;
            }
            if (!server.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("spice-streamd did not start:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
    }

    private void stopServer() throws InterruptedException {
        if (server != null) {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static void put(Path dir, String name, String json) throws IOException {
        String answer = request(dir, "PUT", "/v1/vms/" + name, json);
        if (!answer.startsWith("HTTP/1.1 201") && !answer.startsWith("HTTP/1.1 200")) {
            throw new IOException("PUT " + name + ": " + answer);
        }
    }

    private static void delete(Path dir, String name) throws IOException {
        String answer = request(dir, "DELETE", "/v1/vms/" + name, null);
        if (!answer.startsWith("HTTP/1.1 204")) {
            throw new IOException("DELETE " + name + ": " + answer);
        }
    }

    private static String request(Path dir, String method, String path, String json) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(dir.resolve("c.sock")));
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: "
                    + body.length + "\r\n\r\n";
            ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            ch.write(ByteBuffer.wrap(body));
            return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static long threads(long pid) throws IOException {
        Matcher m = THREADS.matcher(Files.readString(Path.of("/proc/" + pid + "/status")));
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static long fds(long pid) throws IOException {
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }
}
