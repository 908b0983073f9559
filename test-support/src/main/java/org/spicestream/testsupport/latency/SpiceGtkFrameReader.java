package org.spicestream.testsupport.latency;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.testsupport.clients.FlatJson;
import org.spicestream.testsupport.latency.FrameTimeline.Event;

/**
 * spice-gtk as a viewer without a window (SpiceClientGLib through Python GI: its GStreamer appsink path and its
 * built-in MJPEG decoder), reading the {@link org.spicestream.testsupport.media.FrameNumberCode} of every picture it
 * draws, with the time on the clock of {@link System#nanoTime()}.
 */
public final class SpiceGtkFrameReader {

    /** Debian's interpreter, which has {@code gi}; another python3 first on PATH may not. */
    public static final String PYTHON = "/usr/bin/python3";
    /** How long after its reading time the reader may take to connect and finish. */
    public static final Duration SLACK = Duration.ofSeconds(60);

    private SpiceGtkFrameReader() {}

    /** Skips (or fails in CI) when spice-gtk's bindings or the GStreamer decoders are not installed. */
    public static void require() {
        ExternalTools.require(PYTHON, "python3");
        ExternalTools.check(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/girepository-1.0/SpiceClientGLib-2.0.typelib")),
                "spice-gtk GObject bindings (install the Debian package gir1.2-spiceclientglib-2.0)");
        ExternalTools.check(Files.isDirectory(Path.of("/usr/lib/python3/dist-packages/gi")),
                "PyGObject (install the Debian package python3-gi)");
        ExternalTools.check(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstlibav.so")),
                "GStreamer's libav decoders (install the Debian package gstreamer1.0-libav)");
    }

    /**
     * What the reader saw.
     *
     * @param draws every picture with a readable number, in order
     * @param summary the script's counters (invalidates, decoded, undecoded, width, height, error, ...)
     * @param output everything the script and spice-gtk printed
     */
    public record Result(List<Event> draws, Map<String, String> summary, String output) {
        public String error() {
            return summary.getOrDefault("error", "no summary printed");
        }

        public long count(String key) {
            String v = summary.get(key);
            return v == null ? -1 : (long) Double.parseDouble(v);
        }
    }

    /**
     * Connects to {@code uri} (e.g. {@code spice://127.0.0.1:5900}) and reads the pictures for {@code duration} after
     * the first one; blocks until done. {@code workDir} receives the draw log.
     */
    public static Result read(String uri, String password, Duration duration, Path workDir) {
        return read(uri, password, duration, workDir, Map.of());
    }

    /**
     * As {@link #read(String, String, Duration, Path)}, with {@code environment} added to the viewer's environment
     * (e.g. {@code GST_PLUGIN_FEATURE_RANK} to measure a client-side GStreamer setting).
     */
    public static Result read(String uri, String password, Duration duration, Path workDir,
            Map<String, String> environment) {
        require();
        try {
            Files.createDirectories(workDir);
            Path script = workDir.resolve("spice_gtk_frame_reader.py");
            try (InputStream in = SpiceGtkFrameReader.class.getResourceAsStream("spice_gtk_frame_reader.py")) {
                Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            Path out = workDir.resolve("spice-gtk-draws.txt");
            Path log = workDir.resolve("spice-gtk-reader.log");
            List<String> command = new ArrayList<>(List.of(PYTHON, script.toString(), "--uri", uri, "--out",
                    out.toString(), "--duration", Double.toString(duration.toMillis() / 1000.0), "--timeout",
                    Double.toString((duration.plus(SLACK)).toMillis() / 1000.0)));
            if (password != null) {
                command.add("--password");
                command.add(password);
            }
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(environment);
            Process p = builder.start();
            if (!p.waitFor(duration.plus(SLACK).plus(SLACK).toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("spice-gtk frame reader did not exit; its log: " + log);
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            return new Result(readDraws(out), FlatJson.lastObject(output), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A draw log of "NUMBER NANOS" lines. */
    public static List<Event> readDraws(Path file) throws IOException {
        List<Event> draws = new ArrayList<>();
        if (!Files.exists(file)) {
            return draws;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            String[] f = line.trim().split(" ");
            if (f.length == 2) {
                draws.add(new Event(Integer.parseInt(f[0]), Long.parseLong(f[1])));
            }
        }
        return draws;
    }
}
