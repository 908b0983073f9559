package org.spicestream.benchmarks.load;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.clients.FlatJson;
import org.spicestream.testsupport.latency.SpiceGtkFrameReader;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;

/**
 * Where spice-gtk's GStreamer path holds a frame, without SPICE: {@code gst_decode_probe.py} builds the pipeline
 * spice-gtk 0.42 builds for an H.264/H.265 stream (playbin uri=appsrc://, live appsrc, appsink sync=false), pushes the
 * numbered test stream one access unit per buffer at its frame rate, and records per decoded picture the time from
 * push to appsink and how many later access units had been pushed by then ("held"). Each variant changes one thing
 * (the appsrc caps, the parser's rank, playbin3, decoder threads, what a server could append to a frame);
 * variants alternate, {@code --rounds} times.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.spicestream.benchmarks.load.GstDecodeProbe --out target/gst-probe
 *     [--codec h264|h265] [--frames 300] [--rounds 2] [--only spice-gtk,caps-au,...]
 * </pre>
 */
public final class GstDecodeProbe {

    private static final Logger LOG = LoggerFactory.getLogger(GstDecodeProbe.class);
    private static final String SCRIPT = "gst_decode_probe.py";
    /** Samples left out at the start (pipeline set-up, first key frame). */
    private static final int WARMUP_FRAMES = 30;

    /** One change against spice-gtk's pipeline: arguments to the script and variables in its environment. */
    record Variant(String name, String what, List<String> args, Map<String, String> env) {}

    static List<Variant> variants(VideoCodec codec) {
        String caps = codec == VideoCodec.H265 ? "video/x-h265" : "video/x-h264";
        String parser = codec == VideoCodec.H265 ? "h265parse" : "h264parse";
        List<Variant> v = new ArrayList<>(List.of(
                new Variant("spice-gtk", "as spice-gtk 0.42 builds it (caps \"" + caps + "\")", List.of(), Map.of()),
                new Variant("caps-au", "appsrc caps declare one access unit per buffer (" + caps
                        + ",stream-format=byte-stream,alignment=au)",
                        List.of("--caps", caps + ",stream-format=byte-stream,alignment=au"), Map.of()),
                new Variant("no-parser", "GST_PLUGIN_FEATURE_RANK=" + parser + ":NONE (decodebin plugs the decoder"
                        + " straight onto the appsrc)", List.of(), Map.of("GST_PLUGIN_FEATURE_RANK", parser + ":NONE")),
                new Variant("playbin3", "USE_PLAYBIN3=1 (playbin3: parsebin + decodebin3)", List.of(),
                        Map.of("USE_PLAYBIN3", "1")),
                new Variant("one-thread", "decoder max-threads=1", List.of("--max-threads", "1"), Map.of())));
        if (codec == VideoCodec.H264) {
            v.add(new Variant("server-tail", "each frame ends with an access unit delimiter + SEI, its own leading"
                    + " delimiter dropped (what a server could append)", List.of("--h264-tail", "aud-sei"), Map.of()));
        }
        return v;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("target", "gst-probe");
        VideoCodec codec = VideoCodec.H264;
        int frames = 300;
        int rounds = 2;
        List<String> only = null;
        for (int i = 0; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--out" -> out = Path.of(v);
                case "--codec" -> codec = VideoCodec.valueOf(v.toUpperCase(Locale.ROOT));
                case "--frames" -> frames = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--only" -> only = List.of(v.split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (codec != VideoCodec.H264 && codec != VideoCodec.H265) {
            throw new IllegalArgumentException("--codec h264 or h265");
        }
        SpiceGtkFrameReader.require();
        Files.createDirectories(out);
        EncodedStream stream = TestMedia.get(MediaSpec.of(codec, 1280, 720, GlassToGlassScenarios.STREAM_FRAMES)
                .withFps(30).withFrameNumbers());
        Path framesFile = out.resolve("frames-" + codec.name().toLowerCase(Locale.ROOT) + ".bin");
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(framesFile))) {
            for (byte[] f : stream.frames()) {
                o.writeInt(f.length);
                o.write(f);
            }
        }
        Path script = out.resolve(SCRIPT);
        try (InputStream in = GstDecodeProbe.class.getResourceAsStream(SCRIPT)) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        List<String> selected = only;
        List<Variant> chosen = variants(codec).stream().filter(v -> selected == null || selected.contains(v.name()))
                .toList();
        StringBuilder md = new StringBuilder();
        md.append("# spice-gtk's GStreamer pipeline, standalone: ").append(codec).append(" 1280x720 30 fps, ")
                .append(frames).append(" access units per run (first ").append(WARMUP_FRAMES)
                .append(" left out), load before `").append(Scenarios.loadAverage()).append("`\n\n")
                .append("| variant | round | decoder | upstream live | decoder's reported latency ms | held (later access"
                        + " units pushed before the picture came out: count) | push to appsink p50 / p90 / p99 ms |"
                        + " error |\n|---|---|---|---|---|---|---|---|\n");
        for (int round = 1; round <= rounds; round++) {
            for (Variant v : chosen) {
                Map<String, String> r = run(script, framesFile, codec, frames, v, out.resolve(v.name() + "-" + round
                        + ".log"));
                md.append("| ").append(v.name()).append(" | ").append(round).append(" | ")
                        .append(r.getOrDefault("decoder", "?")).append(" | ")
                        .append(r.getOrDefault("upstream_live", "?")).append(" | ")
                        .append(r.getOrDefault("decoder_reported_latency_ms", "?")).append(" | ")
                        .append(r.getOrDefault("held", "?")).append(" | ")
                        .append(r.getOrDefault("push_p50_ms", "?")).append(" / ")
                        .append(r.getOrDefault("push_p90_ms", "?")).append(" / ")
                        .append(r.getOrDefault("push_p99_ms", "?")).append(" | ")
                        .append(r.getOrDefault("error", "")).append(" |\n");
                LOG.info("{} round {}: {}", v.name(), round, r);
            }
        }
        md.append("\nVariants:\n\n");
        for (Variant v : chosen) {
            md.append("- `").append(v.name()).append("`: ").append(v.what()).append('\n');
        }
        Files.writeString(out.resolve("gst-probe.md"), md.toString());
        LOG.info("results in {}\n{}", out.resolve("gst-probe.md"), md);
    }

    private static Map<String, String> run(Path script, Path framesFile, VideoCodec codec, int frames, Variant v,
            Path log) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(SpiceGtkFrameReader.PYTHON, script.toString(), "--frames-file",
                framesFile.toString(), "--codec", codec.name().toLowerCase(Locale.ROOT), "--frames",
                Integer.toString(frames), "--warmup", Integer.toString(WARMUP_FRAMES)));
        cmd.addAll(v.args());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(v.env());
        Process p = pb.start();
        if (!p.waitFor(frames / 10 + 60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return Map.of("error", "did not finish; log " + log);
        }
        Map<String, String> r = new LinkedHashMap<>(FlatJson.lastObject(Files.readString(log, StandardCharsets.UTF_8)));
        if (r.isEmpty()) {
            r.put("error", "no summary (exit " + p.exitValue() + "); log " + log);
        }
        return r;
    }

    private GstDecodeProbe() {}
}
