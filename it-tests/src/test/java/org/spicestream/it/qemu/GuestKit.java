package org.spicestream.it.qemu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.ExternalTools;

/**
 * Builds (once per cache, see {@code src/test/guest/build-guest.sh}) the test guest's kernel and
 * base initramfs: Debian's kernel, busybox-static, the virtio and evdev modules and stream-agent.
 */
public final class GuestKit {

    /** System property naming the cache directory (default {@code <java.io.tmpdir>/spicestream-cache/guest}). */
    public static final String CACHE_PROPERTY = "spicestream.guestCache";
    /** System property naming the directory with build-guest.sh (default: found from the working directory). */
    public static final String SOURCES_PROPERTY = "spicestream.guestSources";

    /** A first build downloads a ~70 MB kernel package and compiles the agent. */
    private static final long BUILD_TIMEOUT_MINUTES = 10;
    private static final Logger LOG = LoggerFactory.getLogger(GuestKit.class);
    private static Artefacts built;

    private GuestKit() {}

    /** The built guest. */
    public record Artefacts(Path directory, Path kernel, Path baseInitramfs, String kernelPackage, String kernelVersion,
            String kernelRelease, List<String> modules) {}

    /**
     * Skips the calling test (fails it in CI) unless QEMU and everything the guest build needs is
     * installed.
     */
    public static void requireTools() {
        ExternalTools.require("qemu-system-x86_64", "qemu-system-x86");
        ExternalTools.require("busybox", "busybox-static");
        ExternalTools.require("cpio", "cpio");
        ExternalTools.require("gcc", "gcc");
        ExternalTools.require("dpkg-deb", "dpkg");
        ExternalTools.require("bash", "bash");
    }

    /** Builds the guest if the cache does not have it yet; once per JVM, later calls are free. */
    public static synchronized Artefacts artefacts() {
        if (built == null) {
            built = build();
        }
        return built;
    }

    /** The directory with build-guest.sh, init and stream-agent.c. */
    public static Path sourceDir() {
        String configured = System.getProperty(SOURCES_PROPERTY);
        List<Path> candidates = configured != null ? List.of(Path.of(configured))
                : List.of(Path.of("src/test/guest"), Path.of("it-tests/src/test/guest"));
        for (Path p : candidates) {
            if (Files.isRegularFile(p.resolve("build-guest.sh"))) {
                return p.toAbsolutePath();
            }
        }
        throw new IllegalStateException("guest sources not found in " + candidates + " (working directory "
                + Path.of("").toAbsolutePath() + "); set -D" + SOURCES_PROPERTY);
    }

    public static Path cacheRoot() {
        String configured = System.getProperty(CACHE_PROPERTY);
        Path root = configured != null ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "spicestream-cache", "guest");
        try {
            return Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Artefacts build() {
        Path script = sourceDir().resolve("build-guest.sh");
        long t0 = System.nanoTime();
        try {
            Process p = new ProcessBuilder("bash", script.toString(), cacheRoot().toString())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            Thread stderr = new Thread(() -> logLines(p), "build-guest stderr");
            stderr.setDaemon(true);
            stderr.start();
            String out;
            try (var in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("build-guest.sh did not finish in " + BUILD_TIMEOUT_MINUTES + " minutes");
            }
            stderr.join(TimeUnit.SECONDS.toMillis(5));
            List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
            if (p.exitValue() != 0 || lines.isEmpty()) {
                throw new IllegalStateException("build-guest.sh failed with exit code " + p.exitValue() + " (its log is above)");
            }
            Path dir = Path.of(lines.get(lines.size() - 1));
            String[] kernel = Files.readString(dir.resolve("kernel.txt")).trim().split(" ");
            List<String> modules = new ArrayList<>(Files.readString(dir.resolve("modules.txt")).lines().filter(l -> !l.isBlank()).toList());
            Artefacts a = new Artefacts(dir, dir.resolve("vmlinuz"), dir.resolve("base.cpio"), kernel[0], kernel[1], kernel[2], List.copyOf(modules));
            LOG.info("guest ready in {} ms: {} {} ({}), modules {}, kernel {} KiB, base initramfs {} KiB",
                    (System.nanoTime() - t0) / 1_000_000, a.kernelPackage(), a.kernelVersion(), a.kernelRelease(), a.modules(),
                    Files.size(a.kernel()) / 1024, Files.size(a.baseInitramfs()) / 1024);
            return a;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the guest", e);
        }
    }

    private static void logLines(Process p) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                LOG.info("{}", line);
            }
        } catch (IOException e) {
            LOG.debug("build-guest stderr: {}", e.toString());
        }
    }
}
