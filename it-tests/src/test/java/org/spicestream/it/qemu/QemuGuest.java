package org.spicestream.it.qemu;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.ExternalTools;

/**
 * A tiny Linux guest under QEMU (software emulation) whose stream-agent plays test streams into the
 * virtio-serial port {@value #PORT_NAME}, as a guest that encodes its own screen would. The host end
 * of the port is a unix socket ({@link #chardevSocket()}) for the server under test (or a test) to
 * connect to; QEMU's QMP socket ({@link #qmpSocket()}) reports port open/close events and injects
 * keys. The agent is driven through the serial console: {@link #sendConsole} types a command,
 * {@link #awaitConsole} waits for one of its {@code AGENT ...} status lines (see stream-agent.c).
 */
public final class QemuGuest implements AutoCloseable {

    /** The virtio-serial port name the stream device uses. */
    public static final String PORT_NAME = "org.spice-space.stream.0";
    /** QEMU's id of the port device: the {@code id} in VSERPORT_CHANGE events. */
    public static final String PORT_ID = "stream0";
    /** Boot to a running agent takes ~5 s here under TCG; leave room for a loaded CI machine. */
    public static final Duration BOOT_TIMEOUT = Duration.ofSeconds(120);

    private static final Logger LOG = LoggerFactory.getLogger(QemuGuest.class);
    private static final Duration QMP_CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final int STDERR_LINES_KEPT = 50;
    // sun_path is 108 bytes; keep well below it
    private static final int MAX_SOCKET_DIR_LENGTH = 60;

    private final Builder config;
    private final GuestKit.Artefacts artefacts;
    private final Path dir;
    private final Path chardevSocket;
    private final Path qmpSocket;
    private final Path serverQmpSocket;
    private final Path initrd;

    private final Object consoleLock = new Object();
    // guarded by consoleLock
    private final List<String> console = new ArrayList<>();
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private int consoleCursor;
    private boolean consoleEnded;

    private Process process;
    private Thread consoleReader;
    private Thread stderrReader;
    private QmpClient qmp;
    private long startNanos;
    private int generation;

    private QemuGuest(Builder config) throws IOException {
        this.config = config;
        this.artefacts = GuestKit.artefacts();
        String tmp = System.getProperty("java.io.tmpdir");
        Path base = tmp.length() <= MAX_SOCKET_DIR_LENGTH ? Path.of(tmp) : Path.of("/tmp");
        this.dir = Files.createTempDirectory(base, "qg");
        this.chardevSocket = dir.resolve("st0.sock");
        this.qmpSocket = dir.resolve("qmp.sock");
        this.serverQmpSocket = dir.resolve("qmp2.sock");
        this.initrd = dir.resolve("initrd.img");
        writeInitrd();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The unix socket of the port's host end (QEMU listens; connect to it as the host/server). */
    public Path chardevSocket() {
        return chardevSocket;
    }

    /** The harness's QMP socket (its client is {@link #qmp()}; QEMU serves one client per QMP socket). */
    public Path qmpSocket() {
        return qmpSocket;
    }

    /**
     * A second QMP socket, left free for the server under test (e.g. to follow VSERPORT_CHANGE).
     * Boot with {@link Builder#paused()} and {@link #resume()} once it is connected if it must see
     * the guest's first port open.
     */
    public Path serverQmpSocket() {
        return serverQmpSocket;
    }

    /** Lets a guest started {@link Builder#paused() paused} run. */
    public void resume() {
        qmp().execute("cont");
    }

    /**
     * The QMP client connected before the guest started running, so it has every event of this
     * QEMU process (QEMU takes one QMP client at a time on this socket).
     */
    public synchronized QmpClient qmp() {
        return qmp;
    }

    public GuestKit.Artefacts artefacts() {
        return artefacts;
    }

    /** {@link System#nanoTime()} when the current QEMU process was started. */
    public synchronized long startNanos() {
        return startNanos;
    }

    /** Time since the current QEMU process was started. */
    public Duration uptime() {
        return Duration.ofNanos(System.nanoTime() - startNanos());
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Waits for the next console line (after the last one an await returned) in which {@code regex}
     * is found; fails the test on timeout or when QEMU exits first.
     */
    public MatchResult awaitConsole(String regex, Duration timeout) {
        return awaitConsole(Pattern.compile(regex), timeout);
    }

    /** See {@link #awaitConsole(String, Duration)}. */
    public MatchResult awaitConsole(Pattern pattern, Duration timeout) {
        synchronized (consoleLock) {
            return awaitConsoleFrom(consoleCursor, pattern, timeout);
        }
    }

    /**
     * Like {@link #awaitConsole(Pattern, Duration)} but searching from line number {@code mark} (see
     * {@link #consoleMark()}), so a line that came before the call is not missed.
     */
    public MatchResult awaitConsoleSince(int mark, Pattern pattern, Duration timeout) {
        synchronized (consoleLock) {
            return awaitConsoleFrom(mark, pattern, timeout);
        }
    }

    /** The number of console lines so far; pass it to {@link #awaitConsoleSince}. */
    public int consoleMark() {
        synchronized (consoleLock) {
            return console.size();
        }
    }

    /** Every console line so far (all boots of this guest), without line ends. */
    public List<String> consoleLines() {
        synchronized (consoleLock) {
            return List.copyOf(console);
        }
    }

    /** Types one command line on the guest's serial console (e.g. "reopen", "quit", "status"). */
    public synchronized void sendConsole(String command) {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("QEMU is not running");
        }
        LOG.info("[{}] console <- {}", config.name, command);
        try {
            OutputStream in = process.getOutputStream();
            in.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("console write", e);
        }
    }

    /** Waits for QEMU to exit (e.g. after "quit": the guest powers off) and returns its exit code. */
    public int awaitExit(Duration timeout) {
        Process p;
        synchronized (this) {
            p = process;
        }
        try {
            if (p == null || !p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("QEMU did not exit within " + timeout + "\n" + diagnostics());
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Kills QEMU at once (SIGKILL), as a crashed VM would vanish. The sockets go with it. */
    public synchronized void kill() {
        if (qmp != null) {
            qmp.close();
        }
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("QEMU did not die");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Let the readers take the dead process's last output, so none of it is taken for the next boot's.
        for (Thread t : new Thread[] {consoleReader, stderrReader}) {
            if (t != null) {
                try {
                    t.join(TimeUnit.SECONDS.toMillis(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Kills QEMU and boots a fresh one on the same socket paths, so a server can reconnect. Console
     * waits then look only at the new boot's lines.
     */
    public synchronized void restart() {
        kill();
        start();
    }

    @Override
    public synchronized void close() {
        kill();
        deleteTree(dir);
    }

    /** The last console and QEMU stderr lines, for failure messages. */
    public String diagnostics() {
        synchronized (consoleLock) {
            List<String> tail = console.subList(Math.max(0, console.size() - 40), console.size());
            return "--- last console lines of " + config.name + ":\n" + String.join("\n", tail)
                    + "\n--- QEMU stderr:\n" + String.join("\n", stderrTail);
        }
    }

    // ------------------------------------------------------------------ internals

    private MatchResult awaitConsoleFrom(int from, Pattern pattern, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            for (; i < console.size(); i++) {
                Matcher m = pattern.matcher(console.get(i));
                if (m.find()) {
                    consoleCursor = Math.max(consoleCursor, i + 1);
                    return m.toMatchResult();
                }
            }
            if (consoleEnded) {
                throw new AssertionError("QEMU exited before a console line matched /" + pattern + "/\n" + diagnostics());
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no console line matched /" + pattern + "/ within " + timeout + "\n" + diagnostics());
            }
            try {
                consoleLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    private synchronized QemuGuest start() {
        List<String> cmd = new ArrayList<>(List.of(
                ExternalTools.require("qemu-system-x86_64", "qemu-system-x86").toString(),
                "-machine", "pc,accel=tcg",
                "-nodefaults", "-no-user-config",
                "-display", "none", "-vga", "none",
                "-m", Integer.toString(memoryMb()),
                "-no-reboot",
                // Paused until the QMP client is attached, so it sees every event of the boot.
                "-S",
                "-kernel", artefacts.kernel().toString(),
                "-initrd", initrd.toString(),
                "-append", "console=ttyS0 quiet panic=-1 " + config.kernelArgs,
                "-serial", "stdio",
                "-device", "virtio-serial-pci",
                "-chardev", "socket,id=st0,path=" + chardevSocket + ",server=on,wait=off",
                "-device", "virtserialport,chardev=st0,name=" + PORT_NAME + ",id=" + PORT_ID,
                "-qmp", "unix:" + qmpSocket + ",server=on,wait=off",
                "-qmp", "unix:" + serverQmpSocket + ",server=on,wait=off"));
        cmd.addAll(config.qemuArgs);
        try {
            Files.deleteIfExists(chardevSocket);
            Files.deleteIfExists(qmpSocket);
            Files.deleteIfExists(serverQmpSocket);
            synchronized (consoleLock) {
                consoleCursor = console.size();
                consoleEnded = false;
                stderrTail.clear();
            }
            generation++;
            LOG.info("[{}] starting {}", config.name, String.join(" ", cmd));
            startNanos = System.nanoTime();
            Process p = new ProcessBuilder(cmd).start();
            process = p;
            consoleReader = new Thread(() -> readConsole(p.getInputStream()), "qemu-console " + config.name + "#" + generation);
            consoleReader.setDaemon(true);
            consoleReader.start();
            stderrReader = new Thread(() -> readStderr(p.getErrorStream()), "qemu-stderr " + config.name + "#" + generation);
            stderrReader.setDaemon(true);
            stderrReader.start();
            // A QEMU that rejects its arguments exits at once: say so rather than wait for its socket.
            Awaitility.await("QMP socket of " + config.name).atMost(QMP_CONNECT_TIMEOUT).pollInterval(Duration.ofMillis(20))
                    .until(() -> !p.isAlive() || Files.exists(qmpSocket));
            if (!p.isAlive()) {
                awaitConsoleEnd();
                throw new IllegalStateException("QEMU exited at start with code " + p.exitValue() + "\n" + diagnostics());
            }
            qmp = QmpClient.connect(qmpSocket, QMP_CONNECT_TIMEOUT);
            if (!config.paused) {
                qmp.execute("cont");
            }
            return this;
        } catch (IOException e) {
            kill();
            throw new UncheckedIOException("starting QEMU", e);
        } catch (RuntimeException | Error e) {
            kill();
            throw e;
        }
    }

    private void awaitConsoleEnd() {
        for (Thread t : new Thread[] {consoleReader, stderrReader}) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private int memoryMb() {
        if (config.memoryMb > 0) {
            return config.memoryMb;
        }
        try {
            // The initrd sits in RAM twice while it unpacks.
            long initrdMb = Files.size(initrd) >> 20;
            return (int) Math.max(256, 160 + 3 * initrdMb);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeInitrd() throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(initrd), 1 << 16)) {
            Files.copy(artefacts.baseInitramfs(), out);
            try (Cpio cpio = new Cpio(out)) {
                cpio.directory("streams");
                for (int i = 0; i < config.streams.size(); i++) {
                    EncodedStream s = config.streams.get(i);
                    // The agent takes them in name order as its order of preference.
                    String name = String.format(Locale.ROOT, "streams/%02d-%s-%dx%d.sst", i,
                            s.codec().name().toLowerCase(Locale.ROOT), s.width(), s.height());
                    cpio.file(name, GuestStreamFile.size(s), 0644);
                    GuestStreamFile.write(s, cpio);
                    cpio.pad();
                }
                cpio.directory("etc");
                cpio.file("etc/agent-args", (String.join(" ", config.agentArgs) + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private void readConsole(InputStream in) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (in) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        addConsoleLine(line.toString(StandardCharsets.UTF_8));
                        line.reset();
                    } else if (b != '\r') {
                        line.write(b);
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("[{}] console read ends: {}", config.name, e.toString());
        } finally {
            if (line.size() > 0) {
                addConsoleLine(line.toString(StandardCharsets.UTF_8));
            }
            synchronized (consoleLock) {
                consoleEnded = true;
                consoleLock.notifyAll();
            }
        }
    }

    private void addConsoleLine(String text) {
        LOG.info("[{}] {}", config.name, text);
        synchronized (consoleLock) {
            console.add(text);
            consoleLock.notifyAll();
        }
    }

    private void readStderr(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String l;
            while ((l = r.readLine()) != null) {
                LOG.warn("[{}] qemu: {}", config.name, l);
                synchronized (consoleLock) {
                    stderrTail.addLast(l);
                    if (stderrTail.size() > STDERR_LINES_KEPT) {
                        stderrTail.removeFirst();
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("[{}] stderr read ends: {}", config.name, e.toString());
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", root, e.toString());
        }
    }

    /** Configures and boots a {@link QemuGuest}. */
    public static final class Builder {
        private final List<EncodedStream> streams = new ArrayList<>();
        private final List<String> agentArgs = new ArrayList<>();
        private final List<String> qemuArgs = new ArrayList<>();
        private String kernelArgs = "";
        private int memoryMb;
        private boolean paused;
        private String name = "guest";

        private Builder() {}

        /**
         * Adds a stream for the agent to play. On START_STOP the agent plays the first stream (in the
         * order added) whose codec the host lists; "stream N" on the console switches.
         */
        public Builder stream(EncodedStream stream) {
            streams.add(stream);
            return this;
        }

        /** Options for stream-agent, e.g. "-m", "0" (no CURSOR_MOVE), "-C" (no CURSOR_SET), "-f", "10", "-r". */
        public Builder agentArgs(String... args) {
            agentArgs.addAll(List.of(args));
            return this;
        }

        /** Extra kernel command line. */
        public Builder kernelArgs(String args) {
            kernelArgs = args;
            return this;
        }

        /** Extra QEMU arguments. */
        public Builder qemuArgs(String... args) {
            qemuArgs.addAll(List.of(args));
            return this;
        }

        /** Guest RAM; by default 256 MiB or more for large streams. */
        public Builder memoryMb(int mb) {
            memoryMb = mb;
            return this;
        }

        /**
         * Leaves the VM paused after start (and after each {@link QemuGuest#restart()}) until
         * {@link QemuGuest#resume()}, e.g. to connect a server to {@link QemuGuest#serverQmpSocket()} first.
         */
        public Builder paused() {
            paused = true;
            return this;
        }

        /** The name in log lines. */
        public Builder name(String guestName) {
            name = guestName;
            return this;
        }

        /** Builds the guest if needed, boots it and returns at once (await "AGENT port-open" or frames). */
        public QemuGuest start() {
            GuestKit.requireTools();
            try {
                QemuGuest guest = new QemuGuest(this);
                try {
                    return guest.start();
                } catch (RuntimeException | Error e) {
                    guest.close();
                    throw e;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

}
