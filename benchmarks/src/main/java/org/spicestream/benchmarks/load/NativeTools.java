package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the native programs of the benchmarks from their C sources (resources of this module, so the runner and
 * the tests compile the same text) with the machine's gcc: the native raw relay and the libspice-server reference.
 * Nothing native is committed as a binary.
 */
public final class NativeTools {

    /** The native relay (rw and splice modes). */
    public static final String RELAY = "spicestream-relay";
    /** The C reference server on libspice-server. */
    public static final String C_SERVER = "spicestream-cserver";
    /**
     * Library preloaded into a spice-gtk viewer to give its H.264/H.265 appsrc the caps of one access unit per buffer
     * (a measurement aid: what spice-gtk would do with that one line changed).
     */
    public static final String AU_CAPS_SHIM = "spice-gtk-au-caps";
    /** gcc options of every native program. */
    static final List<String> CFLAGS = List.of("-O2", "-Wall", "-Wextra", "-Werror");
    /** pkg-config module of libspice-server (Debian package libspice-server-dev). */
    static final String SPICE_SERVER_PKG = "spice-server";
    /** Longest wait for one compiler or pkg-config run. */
    static final long BUILD_TIMEOUT_S = 120;

    private static final String RESOURCE_DIR = "/org/spicestream/benchmarks/native/";

    private NativeTools() {}

    /** Compiles {@link #RELAY} into {@code dir} (relative to the working directory or absolute) and returns the executable. */
    public static Path buildRelay(Path dir) throws IOException, InterruptedException {
        return build(RELAY, dir.toAbsolutePath(), List.of());
    }

    /** Compiles {@link #C_SERVER} into {@code dir} against libspice-server and returns the executable. */
    public static Path buildCServer(Path outDir) throws IOException, InterruptedException {
        Path dir = outDir.toAbsolutePath(); // the compiler runs in dir: relative names would resolve twice
        Files.createDirectories(dir);
        List<String> flags = new ArrayList<>();
        flags.addAll(split(run(List.of("pkg-config", "--cflags", SPICE_SERVER_PKG), dir)));
        flags.addAll(split(run(List.of("pkg-config", "--libs", SPICE_SERVER_PKG), dir)));
        return build(C_SERVER, dir, flags);
    }

    /** Compiles {@link #AU_CAPS_SHIM} into {@code dir} as a shared library (for LD_PRELOAD) and returns it. */
    public static Path buildAuCapsShim(Path outDir) throws IOException, InterruptedException {
        Path dir = outDir.toAbsolutePath();
        Files.createDirectories(dir);
        Path source = copySource(AU_CAPS_SHIM, dir);
        Path library = dir.resolve(AU_CAPS_SHIM + ".so");
        List<String> cmd = new ArrayList<>(List.of("gcc", "-shared", "-fPIC"));
        cmd.addAll(CFLAGS);
        cmd.addAll(List.of("-o", library.toString(), source.toString(), "-ldl"));
        run(cmd, dir);
        return library;
    }

    private static Path copySource(String name, Path dir) throws IOException {
        Path source = dir.resolve(name + ".c");
        try (InputStream in = NativeTools.class.getResourceAsStream(RESOURCE_DIR + name + ".c")) {
            if (in == null) {
                throw new IOException("source " + name + ".c missing from the class path");
            }
            Files.write(source, in.readAllBytes());
        }
        return source;
    }

    private static Path build(String name, Path dir, List<String> extra) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path source = copySource(name, dir);
        Path exe = dir.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("gcc"));
        cmd.addAll(CFLAGS);
        cmd.addAll(List.of("-o", exe.toString(), source.toString()));
        cmd.addAll(extra); // libraries after the source
        run(cmd, dir);
        return exe;
    }

    private static List<String> split(String s) {
        String t = s.trim();
        return t.isEmpty() ? List.of() : Arrays.asList(t.split("\\s+"));
    }

    private static String run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(cmd.get(0) + " not found (Debian packages gcc, pkg-config, libspice-server-dev)", e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(BUILD_TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "):\n" + text);
        }
        return text;
    }
}
