package org.spicestream.testsupport.clients;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.spicestream.testsupport.ExternalTools;

/** A private X server (Xvfb) on a display it picks itself ({@code -displayfd}), for GUI clients in tests. */
public final class Xvfb implements AutoCloseable {

    /** How long Xvfb may take to print its display number. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    /** How long it may take to exit. */
    public static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

    private final Process process;
    private final String display;

    private Xvfb(Process process, String display) {
        this.process = process;
        this.display = display;
    }

    /** Starts Xvfb with one screen of {@code width × height} at 24 bits; {@code log} receives its messages. */
    public static Xvfb start(int width, int height, Path log) {
        Path bin = ExternalTools.require("Xvfb", "xvfb");
        try {
            Process p = new ProcessBuilder(bin.toString(), "-displayfd", "1", "-screen", "0",
                    width + "x" + height + "x24", "-nolisten", "tcp").redirectError(log.toFile()).start();
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    String l = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                            .readLine();
                    return l == null ? "" : l.strip();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String number;
            try {
                number = line.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
                throw new IllegalStateException("Xvfb did not print its display number (log: " + log + ")", e);
            }
            if (!number.matches("\\d+")) {
                p.destroyForcibly();
                throw new IllegalStateException("Xvfb printed '" + number + "' for its display (log: " + log + ")");
            }
            return new Xvfb(p, ":" + number);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** ":N". */
    public String display() {
        return display;
    }

    /** Points a GTK program's environment at this display (X11, no accessibility bus). */
    public void configure(Map<String, String> env) {
        env.put("DISPLAY", display);
        env.remove("WAYLAND_DISPLAY");
        env.put("GDK_BACKEND", "x11");
        env.put("NO_AT_BRIDGE", "1");
    }

    @Override
    public void close() {
        stop(process);
    }

    /** Stops a process we started: SIGTERM, then SIGKILL after {@link #STOP_TIMEOUT}. */
    public static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }
}
