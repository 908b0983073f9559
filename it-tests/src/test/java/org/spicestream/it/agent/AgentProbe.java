package org.spicestream.it.agent;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.ExternalTools;

/**
 * spice-gtk's main channel driven from Python ({@code agent_probe.py}): clipboard commands and monitor configurations
 * go in on stdin, the events spice-gtk reports come back as JSON lines.
 */
public final class AgentProbe implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentProbe.class);
    /** Debian's interpreter, which has {@code gi}. */
    static final String PYTHON = "/usr/bin/python3";
    /** How long an awaited event may take. */
    public static final Duration T = Duration.ofSeconds(30);

    private final String name;
    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final List<String> all = new CopyOnWriteArrayList<>();

    /** Skips (or fails in CI) unless spice-gtk's GObject bindings can be imported. */
    public static void require() throws IOException, InterruptedException {
        ExternalTools.require(PYTHON, "python3-gi");
        Process check = new ProcessBuilder(PYTHON, "-c",
                "import gi; gi.require_version('SpiceClientGLib','2.0'); from gi.repository import SpiceClientGLib")
                .redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ExternalTools.check(check.waitFor() == 0, "spice-gtk GObject bindings (gir1.2-spiceclientglib-2.0): " + out.trim());
    }

    private AgentProbe(String name, Process process) {
        this.name = name;
        this.process = process;
        this.stdin = process.getOutputStream();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("{")) {
                        LOG.info("{}> {}", name, line.length() > 300 ? line.substring(0, 300) + "…" : line);
                        all.add(line);
                        queue.add(line);
                    } else {
                        LOG.debug("{}> {}", name, line);
                    }
                }
            } catch (IOException e) {
                LOG.debug("{} output closed", name, e);
            }
        }, name + "-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the probe against {@code server}; the script is copied into {@code dir}. */
    public static AgentProbe start(String name, InetSocketAddress server, Path dir) throws IOException {
        Path script = dir.resolve("agent_probe.py");
        if (!Files.exists(script)) {
            try (InputStream in = AgentProbe.class.getResourceAsStream("/spice-gtk/agent_probe.py")) {
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Process p = new ProcessBuilder(PYTHON, script.toString(), server.getAddress().getHostAddress(),
                String.valueOf(server.getPort()), "--timeout", "300")
                .redirectError(dir.resolve(name + ".stderr.log").toFile()).start();
        return new AgentProbe(name, p);
    }

    /** Sends one command line. */
    public void command(String line) throws IOException {
        LOG.info("{}< {}", name, line);
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /** Waits for the next line containing {@code fragment}; the lines before it are skipped. */
    public String await(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + T.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
            if (line == null) {
                throw new AssertionError(name + " did not report " + fragment + " within " + T + "; saw " + all);
            }
            if (line.contains(fragment)) {
                return line;
            }
        }
    }

    /** Waits until spice-gtk has the agent with the clipboard capabilities (an agent-update event says so). */
    public void awaitAgentReady() throws InterruptedException {
        await("\"event\":\"agent\",\"connected\":true,\"by_demand\":true");
    }

    public List<String> lines() {
        return List.copyOf(all);
    }

    @Override
    public void close() throws InterruptedException {
        try {
            command("quit");
            stdin.close();
        } catch (IOException e) {
            LOG.debug("{} stdin closed", name, e);
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
