package org.spicestream.benchmarks.load;

import static org.spicestream.benchmarks.load.Scenarios.fmt;

import java.util.List;
import java.util.Map;

/** The Markdown report of a {@link Scenarios} run: the median of the repeated runs of every implementation. */
final class Markdown {

    private Markdown() {}

    @SuppressWarnings("unchecked")
    static String render(Map<String, Object> root, List<Object> results) {
        StringBuilder b = new StringBuilder();
        b.append("# spicestream load run\n\n");
        b.append("Started ").append(root.get("started")).append(", ").append(root.get("cpus")).append(" CPUs, Java ")
                .append(root.get("java")).append(", load average before `").append(root.get("loadavg_before"))
                .append("`, after `").append(root.get("loadavg_after")).append("`; warm-up ")
                .append(root.get("warmup_s")).append(" s, measurement ").append(root.get("duration_s"))
                .append(" s (20 s for the latency case unless changed); implementations ").append(root.get("impls"))
                .append(", alternating, ").append(root.get("repeat")).append(" round(s): every figure is the median"
                        + " of the rounds (results.json has each run).\n\n"
                        + "MB = 10^6 bytes; × raw = against the native relay (rw) of the same run; latency = arrival"
                        + " of a frame's last byte at the client − the time the generator meant to send it (HdrHistogram;"
                        + " at a fixed rate corrected for coordinated omission); CPU = utime + stime of the process"
                        + " under test over the measurement, per guest frame, without the JIT compiler threads in (), of the event-loop threads alone (the data path; a native"
                        + " program's whole process) in []; cs = context switches per frame;"
                        + " load = 1-minute load average at the start of each run (min–max).\n\n");
        b.append("| scenario | impl | guest fps | client fps mean / min / max | client MB/s (sum) | × raw MB/s"
                + " | latency p50 / p90 / p99 / max ms | dropped (total) | CPU µs/frame (excl. JIT) [event loops] | × raw CPU"
                + " | CPU % user / sys | cs/frame | RSS end / max MB (anon + file) | heap after GC MB | load |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Object o : results) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> medians = (Map<String, Object>) r.get("median");
            Map<String, Object> runs = (Map<String, Object>) r.get("runs");
            boolean first = true;
            for (Map.Entry<String, Object> e : medians.entrySet()) {
                row(b, first ? (String) r.get("scenario") : "", (Map<String, Object>) e.getValue(),
                        (List<Map<String, Object>>) runs.get(e.getKey()));
                first = false;
            }
        }
        for (Object o : results) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> medians = (Map<String, Object>) r.get("median");
            for (Object v : medians.values()) {
                Map<String, Object> s = (Map<String, Object>) v;
                if (s.containsKey("slow_fps")) {
                    b.append("\n").append(r.get("scenario")).append(", ").append(s.get("impl"))
                            .append(" (first run): slow client fps ").append(s.get("slow_fps"))
                            .append(", dropped (sequence gaps seen) ").append(s.get("slow_dropped"))
                            .append(", frames the server dropped in the window (all clients) ")
                            .append(fmt(s.get("server_frames_dropped"), "%.0f")).append("; median slow latency p50 / p99 ")
                            .append(fmt(s.get("slow_latency_p50_ms"), "%.1f")).append(" / ")
                            .append(fmt(s.get("slow_latency_p99_ms"), "%.1f")).append(" ms\n");
                }
            }
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String scenario, Map<String, Object> m, List<Map<String, Object>> runs) {
        double loadMin = Double.MAX_VALUE;
        double loadMax = 0;
        for (Map<String, Object> run : runs) {
            Object la = run.get("loadavg_start");
            if (la instanceof String s && !s.isBlank() && !s.equals("unknown")) {
                double l = Double.parseDouble(s.split("\\s+")[0]);
                loadMin = Math.min(loadMin, l);
                loadMax = Math.max(loadMax, l);
            }
        }
        b.append("| ").append(scenario).append(" | ").append(m.get("impl"))
                .append(" | ").append(fmt(m.get("guest_fps"), "%.0f"))
                .append(" | ").append(fmt(m.get("client_fps_mean"), "%.1f")).append(" / ")
                .append(fmt(m.get("client_fps_min"), "%.1f")).append(" / ").append(fmt(m.get("client_fps_max"), "%.1f"))
                .append(" | ").append(fmt(m.get("client_mbps"), "%.0f"))
                .append(" | ").append(fmt(m.get("mbps_ratio"), "%.2f"))
                .append(" | ").append(fmt(m.get("latency_p50_ms"), "%.2f")).append(" / ")
                .append(fmt(m.get("latency_p90_ms"), "%.2f")).append(" / ")
                .append(fmt(m.get("latency_p99_ms"), "%.2f")).append(" / ").append(fmt(m.get("latency_max_ms"), "%.2f"))
                .append(" | ").append(fmt(m.get("dropped_total"), "%.0f"))
                .append(" | ").append(fmt(m.get("cpu_us_per_frame"), "%.0f")).append(" (")
                .append(fmt(m.get("cpu_us_per_frame_excl_jit"), "%.0f")).append(") [")
                .append(fmt(m.get("cpu_us_per_frame_event_loops"), "%.0f")).append("]")
                .append(" | ").append(fmt(m.get("cpu_per_frame_ratio"), "%.2f"))
                .append(" | ").append(fmt(m.get("cpu_user_percent"), "%.0f")).append(" / ")
                .append(fmt(m.get("cpu_system_percent"), "%.0f"))
                .append(" | ").append(fmt(m.get("context_switches_per_frame"), "%.1f"))
                .append(" | ").append(fmt(m.get("rss_end_mb"), "%.1f")).append(" / ").append(fmt(m.get("rss_max_mb"), "%.1f"))
                .append(" (").append(fmt(m.get("rss_anon_end_mb"), "%.1f")).append(" + ")
                .append(fmt(m.get("rss_file_end_mb"), "%.1f")).append(")")
                .append(" | ").append(fmt(m.get("heap_after_gc_mb"), "%.1f"))
                .append(" | ").append(loadMin == Double.MAX_VALUE ? "–"
                        : String.format(java.util.Locale.ROOT, "%.1f–%.1f", loadMin, loadMax)).append(" |\n");
    }
}
