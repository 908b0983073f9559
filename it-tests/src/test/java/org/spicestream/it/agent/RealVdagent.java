package org.spicestream.it.agent;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.spicestream.testsupport.ExternalTools;

/**
 * Debian's spice-vdagent running outside a VM, as a guest's agent: {@code socat} turns a pty (the "virtio port")
 * into a connection to the server's agent socket, {@code spice-vdagentd} (fake uinput) reads the pty, and the X11
 * session agent {@code spice-vdagent} runs on an Xvfb display (clipboard, RandR). {@link #stop()} ends all three,
 * which the server sees as the guest closing the port.
 */
public final class RealVdagent implements AutoCloseable {

    /** How long the processes may take to come up or go away. */
    public static final Duration TOOL_TIMEOUT = Duration.ofSeconds(15);

    private final Path dir;
    private final Path serverSocket;
    private final String display;
    private final List<Process> processes = new ArrayList<>();
    private int generation;

    /** Skips (or fails in CI) unless socat, spice-vdagent(d), xclip, Xvfb and xrandr are installed. */
    public static void require() {
        ExternalTools.require("socat", "socat");
        ExternalTools.require("spice-vdagentd", "spice-vdagent");
        ExternalTools.require("spice-vdagent", "spice-vdagent");
        ExternalTools.require("xclip", "xclip");
        ExternalTools.require("Xvfb", "xvfb");
        ExternalTools.require("xrandr", "x11-xserver-utils");
    }

    /**
     * @param dir a private directory for the pty link, the daemon's socket and the logs
     * @param serverSocket the unix socket the server listens on for the agent
     * @param display the X display of the session agent, e.g. {@code :3}
     */
    public RealVdagent(Path dir, Path serverSocket, String display) {
        this.dir = dir;
        this.serverSocket = serverSocket;
        this.display = display;
    }

    /** Starts socat, the daemon and the session agent; returns once the session agent runs. */
    public RealVdagent start() throws IOException {
        generation++;
        Path port = dir.resolve("vport" + generation);
        Path daemonSocket = dir.resolve("vd" + generation + ".sock");
        Path uinput = dir.resolve("uinput");
        Files.write(uinput, new byte[0]); // the fake uinput file must exist
        processes.add(start(List.of("socat", "PTY,link=" + port + ",rawer", "UNIX-CONNECT:" + serverSocket),
                "socat" + generation));
        await().atMost(TOOL_TIMEOUT).until(() -> Files.exists(port));
        processes.add(start(List.of("spice-vdagentd", "-x", "-X", "-f", "-d", "-u", uinput.toString(), "-s",
                port.toString(), "-S", daemonSocket.toString()), "vdagentd" + generation));
        await().atMost(TOOL_TIMEOUT).until(() -> Files.exists(daemonSocket));
        processes.add(start(List.of("spice-vdagent", "-x", "-d", "-s", port.toString(), "-S", daemonSocket.toString()),
                "vdagent" + generation));
        return this;
    }

    private Process start(List<String> command, String log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(log + ".log").toFile());
        pb.environment().put("DISPLAY", display);
        return pb.start();
    }

    /** The daemon (to stop it with SIGSTOP, as an agent that stops reading). */
    public long daemonPid() {
        return processes.get(processes.size() - 2).pid();
    }

    /** Ends the session agent, the daemon and socat (the server sees the port close). */
    public void stop() throws InterruptedException {
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.destroy();
            if (!p.waitFor(TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        processes.clear();
    }

    /** The logs of the current processes, for failure messages. */
    public String logs() {
        StringBuilder b = new StringBuilder();
        for (String name : List.of("socat", "vdagentd", "vdagent")) {
            Path f = dir.resolve(name + generation + ".log");
            try {
                if (Files.exists(f)) {
                    b.append("--- ").append(f.getFileName()).append('\n').append(Files.readString(f));
                }
            } catch (IOException e) {
                b.append("cannot read ").append(f).append(": ").append(e).append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
