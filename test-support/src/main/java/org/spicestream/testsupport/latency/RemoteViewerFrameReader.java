package org.spicestream.testsupport.latency;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.testsupport.clients.FlatJson;
import org.spicestream.testsupport.clients.Xvfb;

/**
 * Debian's {@code remote-viewer} (spice-gtk's widget in its window, at the stream's size: no window manager, so
 * the window takes its natural size on a private Xvfb screen larger than the stream), and a poller that reads the {@link org.spicestream.testsupport.media.FrameNumberCode} the screen
 * shows whenever it changes (about every millisecond, two 1-pixel rows per poll; the result says the resolution).
 */
public final class RemoteViewerFrameReader {

    /** Pixels the screen has beyond the stream, each way. */
    static final int SCREEN_MARGIN = 128;
    /** How long remote-viewer may take to show the first picture. */
    public static final Duration FIRST_PICTURE_TIMEOUT = Duration.ofSeconds(60);

    private RemoteViewerFrameReader() {}

    /** Skips (or fails in CI) when Xvfb, remote-viewer or Python's Gdk bindings are missing. */
    public static void require() {
        ExternalTools.require("Xvfb", "xvfb");
        ExternalTools.require("remote-viewer", "virt-viewer");
        ExternalTools.require(SpiceGtkFrameReader.PYTHON, "python3");
        ExternalTools.check(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/girepository-1.0/Gdk-3.0.typelib")),
                "GDK's GObject bindings (install the Debian package gir1.2-gtk-3.0)");
    }

    /**
     * Shows {@code uri} in remote-viewer and reads the screen for {@code duration} after the first picture; the
     * stream must be {@code width × height}. Logs go to {@code workDir}.
     */
    public static SpiceGtkFrameReader.Result read(String uri, int width, int height, Duration duration, Path workDir) {
        require();
        try {
            Files.createDirectories(workDir);
            Path script = workDir.resolve("window_frame_reader.py");
            try (InputStream in = RemoteViewerFrameReader.class.getResourceAsStream("window_frame_reader.py")) {
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
            Path out = workDir.resolve("remote-viewer-draws.txt");
            Path log = workDir.resolve("window-reader.log");
            // Room for the window's header bar and border: the picture is shown 1:1 below them.
            try (Xvfb x = Xvfb.start(width + SCREEN_MARGIN, height + SCREEN_MARGIN, workDir.resolve("xvfb.log"))) {
                ProcessBuilder viewer = new ProcessBuilder(ExternalTools.require("remote-viewer", "virt-viewer")
                        .toString(), uri).redirectErrorStream(true)
                        .redirectOutput(workDir.resolve("remote-viewer.log").toFile());
                x.configure(viewer.environment());
                Process v = viewer.start();
                try {
                    ProcessBuilder reader = new ProcessBuilder(SpiceGtkFrameReader.PYTHON, script.toString(), "--out",
                            out.toString(), "--width", Integer.toString(width), "--height", Integer.toString(height),
                            "--duration", Double.toString(duration.toMillis() / 1000.0), "--timeout",
                            Double.toString(FIRST_PICTURE_TIMEOUT.toSeconds())).redirectErrorStream(true)
                            .redirectOutput(log.toFile());
                    x.configure(reader.environment());
                    Process r = reader.start();
                    long limit = duration.plus(FIRST_PICTURE_TIMEOUT).plus(SpiceGtkFrameReader.SLACK).toMillis();
                    if (!r.waitFor(limit, TimeUnit.MILLISECONDS)) {
                        r.destroyForcibly();
                        throw new AssertionError("window frame reader did not exit; its log: " + log);
                    }
                } finally {
                    Xvfb.stop(v);
                }
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            List<FrameTimeline.Event> draws = SpiceGtkFrameReader.readDraws(out);
            return new SpiceGtkFrameReader.Result(draws, FlatJson.lastObject(output), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
