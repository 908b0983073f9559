package org.spicestream.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.testsupport.latency.SpiceGtkFrameReader;

/**
 * The measurement aid of {@code GlassToGlassScenarios --spice-gtk-au-caps}: preloaded, it gives a library that calls
 * {@code gst_caps_from_string} (as spice-gtk does for its appsrc) the H.264/H.265 caps of one access unit per buffer,
 * and leaves every other caps string alone.
 */
class AuCapsShimTest {

    /** Looks gst_caps_from_string up as a library linked against GStreamer would (global scope, preload first). */
    private static final String CALLER = String.join("\n",
            "import ctypes",
            "gst = ctypes.CDLL('libgstreamer-1.0.so.0', mode=ctypes.RTLD_GLOBAL)",
            "gst.gst_init(None, None)",
            "linked = ctypes.CDLL(None)",
            "linked.gst_caps_from_string.restype = ctypes.c_void_p",
            "linked.gst_caps_from_string.argtypes = [ctypes.c_char_p]",
            "gst.gst_caps_to_string.restype = ctypes.c_void_p",
            "gst.gst_caps_to_string.argtypes = [ctypes.c_void_p]",
            "for s in (b'video/x-h264', b'video/x-h265', b'video/x-vp8', b'video/x-h264,stream-format=avc'):",
            "    print(ctypes.string_at(gst.gst_caps_to_string(linked.gst_caps_from_string(s))).decode())");

    @Test
    void preloadedItRewritesExactlySpiceGtksH264AndH265CapsAndNothingElse(@TempDir Path dir) throws Exception {
        ExternalTools.require("gcc", "gcc");
        SpiceGtkFrameReader.require();
        Path shim = NativeTools.buildAuCapsShim(dir);

        List<String> with = run(Map.of("LD_PRELOAD", shim.toString()));
        List<String> without = run(Map.of());

        assertThat(with).containsExactly(
                "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au",
                "video/x-h265, stream-format=(string)byte-stream, alignment=(string)au",
                "video/x-vp8",
                "video/x-h264, stream-format=(string)avc");
        assertThat(without).containsExactly("video/x-h264", "video/x-h265", "video/x-vp8",
                "video/x-h264, stream-format=(string)avc");
    }

    private static List<String> run(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(SpiceGtkFrameReader.PYTHON, "-c", CALLER);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("python: %s", err).isZero();
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                lines.add(line.trim());
            }
        }
        return lines;
    }
}
