package org.spicestream.testsupport.media;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.spicestream.testsupport.ExternalTools;

/** Runs Debian's ffmpeg; a failure carries ffmpeg's own error text. */
final class Ffmpeg {

    /** Generous: the largest stream the kit makes takes a few seconds on two cores. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    private static volatile String version;

    private Ffmpeg() {}

    static Path executable() {
        return ExternalTools.require("ffmpeg", "ffmpeg");
    }

    /** ffmpeg's first {@code -version} line: part of every cache key, as encoders change between releases. */
    static String version() {
        String v = version;
        if (v == null) {
            byte[] out = run(List.of("-version"));
            v = new String(out, StandardCharsets.UTF_8).lines().findFirst().orElse("unknown");
            version = v;
        }
        return v;
    }

    /** Runs {@code ffmpeg args...} and returns its standard output. */
    static byte[] run(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(executable().toString());
        command.addAll(args);
        Path out = null;
        Path err = null;
        try {
            // Files rather than pipes: nothing to drain, so no reader threads and no pipe deadlock.
            out = Files.createTempFile("ffmpeg", ".out");
            err = Files.createTempFile("ffmpeg", ".err");
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("ffmpeg timed out after " + TIMEOUT + ": " + String.join(" ", command));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("ffmpeg failed (" + p.exitValue() + "): " + String.join(" ", command) + "\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running ffmpeg", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }
}
