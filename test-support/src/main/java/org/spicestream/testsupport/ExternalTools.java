package org.spicestream.testsupport;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds third-party programs (QEMU, ffmpeg, spice-gtk's Python bindings, Chromium...) that end-to-end
 * tests drive.
 *
 * <p>Where a program is absent a test is skipped with a message naming the Debian package. In CI
 * ({@code .ci/run} exports {@value #REQUIRE_ENV}=1, or {@code -Dspicestream.requireTools=true}) a
 * missing program fails the test instead, so that nothing is silently skipped there.
 */
public final class ExternalTools {

    /** Environment variable that turns a missing program into a test failure. */
    public static final String REQUIRE_ENV = "SPICESTREAM_REQUIRE_TOOLS";

    private ExternalTools() {}

    /** True when missing programs must fail tests rather than skip them. */
    public static boolean required() {
        return "1".equals(System.getenv(REQUIRE_ENV)) || Boolean.getBoolean("spicestream.requireTools");
    }

    /** The absolute path of {@code program} on PATH (or the absolute path itself if it is executable). */
    public static Optional<Path> find(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * Returns the program's path; if it is missing, skips the calling test (or fails it in CI) with a
     * message that names the Debian package to install.
     */
    public static Path require(String program, String debianPackage) {
        Optional<Path> path = find(program);
        check(path.isPresent(), program + " not found (install the Debian package " + debianPackage + ")");
        return path.orElseThrow();
    }

    /** Skips (or, in CI, fails) the calling test unless {@code condition} holds. */
    public static void check(boolean condition, String whatIsMissing) {
        if (condition) {
            return;
        }
        if (required()) {
            throw new AssertionError("required for this test but missing: " + whatIsMissing
                    + " (" + REQUIRE_ENV + "=1: tests may not be skipped for a missing program)");
        }
        Assumptions.assumeTrue(false, "skipped: " + whatIsMissing);
    }
}
