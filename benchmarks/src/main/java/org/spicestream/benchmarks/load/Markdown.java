package org.spicestream.benchmarks.load;

import static org.spicestream.benchmarks.load.Scenarios.fmt;

import java.util.List;
import java.util.Map;

/** The Markdown report of a {@link Scenarios} run. */
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
                .append(" s (20 s for the latency case unless changed). MB = 10^6 bytes; latency = arrival of a"
                        + " frame's last byte at the client − the generator's stamp; CPU = utime + stime of the"
                        + " server (or relay) process over the measurement.\n\n");
        b.append("| scenario | impl | guest fps | client fps mean / min / max | client MB/s (sum) | ratio to raw"
                + " | latency p50 / p90 / p99 / max ms | dropped per client (total) | CPU µs/frame (excl. JIT) | CPU % (JIT) | RSS end /"
                + " max MB | heap after GC MB |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Object o : results) {
            Map<String, Object> r = (Map<String, Object>) o;
            row(b, (String) r.get("scenario"), (Map<String, Object>) r.get("server"), r.get("mbps_ratio"));
            if (r.get("relay") != null) {
                row(b, "", (Map<String, Object>) r.get("relay"), null);
            }
        }
        b.append("\nSlow-client and other details are in results.json.\n");
        for (Object o : results) {
            Map<String, Object> r = (Map<String, Object>) o;
            Map<String, Object> s = (Map<String, Object>) r.get("server");
            if (s.containsKey("slow_fps")) {
                b.append("\n").append(r.get("scenario")).append(": slow client fps ").append(s.get("slow_fps"))
                        .append(", dropped (sequence gaps seen) ").append(s.get("slow_dropped"))
                        .append(", frames the server dropped in the window (all clients) ")
                        .append(s.get("server_frames_dropped")).append(", latency p50 / p99 / max ")
                        .append(fmt(s.get("slow_latency_p50_ms"), "%.1f")).append(" / ")
                        .append(fmt(s.get("slow_latency_p99_ms"), "%.1f")).append(" / ")
                        .append(fmt(s.get("slow_latency_max_ms"), "%.1f")).append(" ms\n");
            }
            if (r.get("cpu_per_frame_ratio") != null) {
                b.append("\n").append(r.get("scenario")).append(": CPU per frame ")
                        .append(fmt(r.get("cpu_per_frame_ratio"), "%.2f")).append("× the raw relay's (")
                        .append(fmt(r.get("cpu_per_frame_excl_jit_ratio"), "%.2f"))
                        .append("× without the JIT compiler threads)\n");
            }
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String scenario, Map<String, Object> m, Object ratio) {
        Object dropped = m.get("dropped_per_client");
        String drops = dropped instanceof List<?> l && l.size() > 4
                ? "max " + l.stream().mapToLong(x -> (Long) x).max().orElse(0) : String.valueOf(dropped);
        b.append("| ").append(scenario).append(" | ").append(m.get("impl"))
                .append(" | ").append(fmt(m.get("guest_fps"), "%.0f"))
                .append(" | ").append(fmt(m.get("client_fps_mean"), "%.1f")).append(" / ")
                .append(fmt(m.get("client_fps_min"), "%.1f")).append(" / ").append(fmt(m.get("client_fps_max"), "%.1f"))
                .append(" | ").append(fmt(m.get("client_mbps"), "%.0f"))
                .append(" | ").append(fmt(ratio, "%.2f"))
                .append(" | ").append(fmt(m.get("latency_p50_ms"), "%.2f")).append(" / ")
                .append(fmt(m.get("latency_p90_ms"), "%.2f")).append(" / ")
                .append(fmt(m.get("latency_p99_ms"), "%.2f")).append(" / ").append(fmt(m.get("latency_max_ms"), "%.2f"))
                .append(" | ").append(m.get("clients") == null || Integer.valueOf(0).equals(m.get("clients")) ? "–"
                        : drops + " (" + m.get("dropped_total") + ")")
                .append(" | ").append(fmt(m.get("cpu_us_per_frame"), "%.0f")).append(" (")
                .append(fmt(m.get("cpu_us_per_frame_excl_jit"), "%.0f")).append(")")
                .append(" | ").append(fmt(m.get("cpu_percent"), "%.0f")).append(" (")
                .append(fmt(m.get("jit_cpu_percent"), "%.0f")).append(")")
                .append(" | ").append(fmt(m.get("rss_end_mb"), "%.0f")).append(" / ").append(fmt(m.get("rss_max_mb"), "%.0f"))
                .append(" | ").append(fmt(m.get("heap_after_gc_mb"), "%.1f")).append(" |\n");
    }
}
