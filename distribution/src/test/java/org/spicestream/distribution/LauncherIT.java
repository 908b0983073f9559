package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's launcher {@code bin/spice-streamd}, unpacked from the tarball and run with the real JVM: its
 * memory defaults reach the JVM (as the JVM itself reports them with -XX:+PrintCommandLineFlags), and whatever
 * JAVA_OPTS or the environment sets instead wins.
 */
class LauncherIT {

    private static final Path TARBALL = Path.of(System.getProperty("spicestreamd.tarball",
            "target/spice-streamd-0.1.0-SNAPSHOT.tar.gz"));
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
    private static final String REAL_JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    @TempDir
    Path dir;

    private Path launcher;
    private Path javaHome;

    @BeforeEach
    void unpack() throws Exception {
        assertThat(TARBALL).as("tarball (mvn package)").exists();
        Process tar = new ProcessBuilder("tar", "xzf", TARBALL.toAbsolutePath().toString(), "-C", dir.toString())
                .inheritIO().start();
        assertThat(tar.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue()).isZero();
        try (var s = Files.list(dir)) {
            launcher = s.filter(Files::isDirectory).findFirst().orElseThrow().resolve("bin/spice-streamd");
        }
        // JAVA_HOME whose java reports the environment it was started with, then runs the real JVM
        javaHome = dir.resolve("jdk");
        Files.createDirectories(javaHome.resolve("bin"));
        Path java = javaHome.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\necho \"MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX\"\nexec '" + REAL_JAVA
                + "' \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void serverDefaultsBoundHeapAndDirectMemory() throws Exception {
        // an option that merely contains "Use" and "GC" chooses no collector: the serial default stays
        String out = run(Map.of("JAVA_OPTS", "-XX:+UseGCOverheadLimit -XX:+PrintCommandLineFlags"));
        assertThat(out).contains("MALLOC_ARENA_MAX=2")
                .contains("-XX:InitialHeapSize=" + 16 * 1024 * 1024)
                .contains("-XX:MaxHeapSize=" + 64 * 1024 * 1024)
                .contains("-XX:MaxDirectMemorySize=" + 512 * 1024 * 1024)
                .contains("-XX:+UseSerialGC")
                .contains("-XX:TrimNativeHeapInterval=1000") // this JVM (17.0.9+) has it: the probe must add it
                .contains("spice-streamd"); // --version ran: the options are valid for this JVM
    }

    @Test
    void javaOptsAndEnvironmentWinOverTheDefaults() throws Exception {
        String out = run(Map.of("JAVA_OPTS", "-Xmx96m -XX:+UseG1GC -XX:MaxDirectMemorySize=32m"
                + " -XX:TrimNativeHeapInterval=0 -XX:+PrintCommandLineFlags",
                "MALLOC_ARENA_MAX", "4"));
        assertThat(out).contains("MALLOC_ARENA_MAX=4")
                .contains("-XX:MaxHeapSize=" + 96 * 1024 * 1024)
                .contains("-XX:MaxDirectMemorySize=" + 32 * 1024 * 1024)
                .contains("-XX:+UseG1GC")
                .doesNotContain("UseSerialGC")
                .doesNotContain("TrimNativeHeapInterval=1000")
                .contains("-XX:InitialHeapSize=" + 16 * 1024 * 1024) // not set in JAVA_OPTS: the default stays
                .contains("spice-streamd");
    }

    private String run(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(launcher.toString(), "--version")).redirectErrorStream(true);
        pb.environment().remove("JAVA_OPTS");
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().put("JAVA_HOME", javaHome.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        return text;
    }
}
