package org.spicestream.it.clients;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.spicestream.testsupport.ExternalTools;

/** Runs spice-gtk (through its GObject bindings) against a server and returns what it saw. */
public final class SpiceGtkProbe {

    /** Debian's interpreter, which has {@code gi}; another python3 first on PATH may not. */
    static final String PYTHON = "/usr/bin/python3";

    private SpiceGtkProbe() {}

    /** Skips (or fails in CI) when spice-gtk's bindings or the GStreamer decoders are not installed. */
    public static void requireSpiceGtk() {
        ExternalTools.require(PYTHON, "python3");
        ExternalTools.check(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/girepository-1.0/SpiceClientGLib-2.0.typelib")),
                "spice-gtk GObject bindings (install the Debian package gir1.2-spiceclientglib-2.0)");
        ExternalTools.check(Files.isDirectory(Path.of("/usr/lib/python3/dist-packages/gi")),
                "PyGObject (install the Debian package python3-gi)");
        ExternalTools.check(Files.isDirectory(Path.of("/usr/lib/python3/dist-packages/PIL")),
                "Pillow (install the Debian package python3-pil)");
    }

    /** Result of one probe run: the flat JSON object the script printed. */
    public record Result(Map<String, String> values, String output) {
        public String string(String key) {
            return values.getOrDefault(key, "");
        }

        public long number(String key) {
            String v = values.get(key);
            return v == null ? -1 : (long) Double.parseDouble(v);
        }

        public boolean flag(String key) {
            return "true".equals(values.get(key));
        }

        @Override
        public String toString() {
            return values.toString();
        }
    }

    /** Connects to {@code server}, waits for {@code frames} shown frames, saves the picture to {@code png}. */
    /**
     * Counts the frames spice-gtk shows during {@code seconds} from the first one ({@code window_invalidates}),
     * then saves the picture to {@code png}.
     */
    public static Result runFor(InetSocketAddress server, double seconds, Path png) {
        return runWith(List.of("--uri", "spice://" + server.getHostString() + ":" + server.getPort(),
                "--duration", Double.toString(seconds), "--png", png.toString(),
                "--timeout", Double.toString(seconds + 30)), seconds + 30);
    }

    public static Result run(InetSocketAddress server, String password, int frames, Path png, double timeoutSeconds) {
        return run("spice://" + server.getHostString() + ":" + server.getPort(), password, null, frames, png, timeoutSeconds);
    }

    /**
     * Connects to {@code uri} (e.g. {@code spice://127.0.0.1?port=P&tls-port=T}) trusting the PEM CA file
     * {@code caFile} for TLS channels (null: not set), otherwise as {@link #run(InetSocketAddress, String, int, Path, double)}.
     */
    public static Result run(String uri, String password, Path caFile, int frames, Path png, double timeoutSeconds) {
        List<String> command = new ArrayList<>(List.of("--uri", uri,
                "--frames", Integer.toString(frames), "--timeout", Double.toString(timeoutSeconds)));
        if (caFile != null) {
            command.add("--ca-file");
            command.add(caFile.toString());
        }
        if (password != null) {
            command.add("--password");
            command.add(password);
        }
        if (png != null) {
            command.add("--png");
            command.add(png.toString());
        }
        return runWith(command, timeoutSeconds);
    }

    /**
     * Connects to {@code uri} through the HTTP CONNECT proxy {@code proxy} ({@code http://HOST:PORT}, spice-gtk's
     * session property {@code proxy}, remote-viewer's {@code --spice-proxy}), otherwise as {@link #run(String,
     * String, Path, int, Path, double)}.
     */
    public static Result runViaProxy(String uri, String proxy, String password, int frames, Path png,
            double timeoutSeconds) {
        List<String> command = new ArrayList<>(List.of("--uri", uri, "--proxy", proxy,
                "--frames", Integer.toString(frames), "--timeout", Double.toString(timeoutSeconds)));
        if (password != null) {
            command.add("--password");
            command.add(password);
        }
        if (png != null) {
            command.add("--png");
            command.add(png.toString());
        }
        return runWith(command, timeoutSeconds);
    }

    private static Result runWith(List<String> arguments, double timeoutSeconds) {
        List<String> command = new ArrayList<>(List.of(PYTHON, script().toString()));
        command.addAll(arguments);
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output;
            try (InputStream in = p.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor((long) timeoutSeconds + 30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("spice-gtk probe did not exit:\n" + output);
            }
            String[] lines = output.strip().split("\n");
            String last = lines[lines.length - 1];
            if (!last.startsWith("{")) {
                throw new AssertionError("spice-gtk probe printed no result:\n" + output);
            }
            return new Result(parseFlatJson(last), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static final Pattern ENTRY =
            Pattern.compile("\"([a-z_0-9]+)\":\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.eE+]+|true|false|null)");

    static Map<String, String> parseFlatJson(String json) {
        Map<String, String> values = new HashMap<>();
        Matcher m = ENTRY.matcher(json);
        while (m.find()) {
            values.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(2));
        }
        return values;
    }

    private static synchronized Path script() {
        try {
            Path file = Files.createTempFile("display_probe", ".py");
            try (InputStream in = SpiceGtkProbe.class.getResourceAsStream("/probes/display_probe.py")) {
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            }
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
