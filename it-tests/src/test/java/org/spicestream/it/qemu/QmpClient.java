package org.spicestream.it.qemu;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small QMP client for tests: executes commands and records events (VSERPORT_CHANGE, SHUTDOWN...).
 * Test-only; the server's own QMP client lives in transport-virtio.
 */
public final class QmpClient implements AutoCloseable {

    /** How long a command may take before the test fails. */
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(QmpClient.class);

    private final SocketChannel channel;
    private final Path socket;
    private final Map<String, Object> greeting;
    private final Object lock = new Object();
    // guarded by lock
    private final List<Map<String, Object>> events = new ArrayList<>();
    private final List<Boolean> consumed = new ArrayList<>();
    private final Map<String, Map<String, Object>> responses = new HashMap<>();
    private boolean closed;
    private long nextId;

    private QmpClient(SocketChannel channel, Path socket) throws IOException {
        this.channel = channel;
        this.socket = socket;
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        String first = in.readLine();
        if (first == null) {
            throw new IOException("QMP socket " + socket + " closed before the greeting");
        }
        greeting = asMap(Json.parse(first));
        Thread reader = new Thread(() -> readLoop(in), "qmp-reader " + socket.getFileName());
        reader.setDaemon(true);
        reader.start();
        execute("qmp_capabilities");
    }

    /** Connects to QEMU's {@code -qmp unix:PATH,server=on} socket, waiting up to {@code timeout} for it to appear. */
    public static QmpClient connect(Path socket, Duration timeout) {
        AtomicReference<SocketChannel> connected = new AtomicReference<>();
        await("QMP socket " + socket).atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                connected.set(ch);
                return true;
            } catch (IOException e) {
                ch.close();
                return false;
            }
        });
        try {
            return new QmpClient(connected.get(), socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The greeting ({@code {"QMP": {"version": ...}}}). */
    public Map<String, Object> greeting() {
        return greeting;
    }

    /** Executes a command without arguments; returns its {@code return} value. */
    public Object execute(String command) {
        return execute(command, null);
    }

    /**
     * Executes a command and returns its {@code return} value (usually a Map); a QMP error becomes a
     * {@link QmpException}.
     */
    public Object execute(String command, Map<String, ?> arguments) {
        String id;
        Map<String, Object> msg = new LinkedHashMap<>();
        synchronized (lock) {
            id = "t" + nextId++;
        }
        msg.put("execute", command);
        if (arguments != null) {
            msg.put("arguments", arguments);
        }
        msg.put("id", id);
        String line = Json.write(msg) + "\n";
        try {
            ByteBuffer buf = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            synchronized (channel) {
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("QMP " + command, e);
        }
        Map<String, Object> response = awaitLocked(() -> responses.remove(id), COMMAND_TIMEOUT, "reply to " + command);
        if (response.containsKey("error")) {
            throw new QmpException(command, asMap(response.get("error")));
        }
        return response.get("return");
    }

    /**
     * Waits for an event named {@code name} whose {@code data} matches, that no earlier call returned;
     * events that arrived before the call count too.
     */
    public Map<String, Object> awaitEvent(String name, Predicate<Map<String, Object>> data, Duration timeout) {
        return awaitLocked(() -> {
            for (int i = 0; i < events.size(); i++) {
                Map<String, Object> e = events.get(i);
                if (!consumed.get(i) && name.equals(e.get("event")) && data.test(asMap(e.getOrDefault("data", Map.of())))) {
                    consumed.set(i, true);
                    return e;
                }
            }
            return null;
        }, timeout, "event " + name);
    }

    /** Waits for VSERPORT_CHANGE of port {@code id} with {@code open}; returns the event. */
    public Map<String, Object> awaitPortChange(String id, boolean open, Duration timeout) {
        return awaitEvent("VSERPORT_CHANGE", d -> id.equals(d.get("id")) && Boolean.valueOf(open).equals(d.get("open")), timeout);
    }

    /** Every event received so far, in order. */
    public List<Map<String, Object>> events() {
        synchronized (lock) {
            return List.copyOf(events);
        }
    }

    /** Presses and releases one key ({@code input-send-event}; e.g. "a", "ret", "shift"). */
    public void sendKey(String qcode) {
        for (boolean down : new boolean[] {true, false}) {
            Map<String, Object> key = Map.of("type", "qcode", "data", qcode);
            Map<String, Object> event = Map.of("type", "key", "data", Map.of("down", down, "key", key));
            execute("input-send-event", Map.of("events", List.of(event)));
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing QMP {}: {}", socket, e.toString());
        }
    }

    private void readLoop(BufferedReader in) {
        try {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                Map<String, Object> msg = asMap(Json.parse(line));
                synchronized (lock) {
                    if (msg.containsKey("event")) {
                        LOG.debug("QMP event {}", line);
                        events.add(msg);
                        consumed.add(false);
                    } else if (msg.get("id") instanceof String id) {
                        responses.put(id, msg);
                    } else {
                        LOG.warn("QMP message without id: {}", line);
                    }
                    lock.notifyAll();
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("QMP {} reader ends: {}", socket, e.toString());
        } finally {
            synchronized (lock) {
                closed = true;
                lock.notifyAll();
            }
        }
    }

    private interface Lookup<T> {
        T find();
    }

    private <T> T awaitLocked(Lookup<T> lookup, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                T found = lookup.find();
                if (found != null) {
                    return found;
                }
                long left = deadline - System.nanoTime();
                if (closed) {
                    throw new AssertionError("QMP connection " + socket + " closed while waiting for " + what + "; events: " + events);
                }
                if (left <= 0) {
                    throw new AssertionError("no " + what + " from QMP within " + timeout + "; events: " + events);
                }
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for " + what, e);
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object o) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException("expected a JSON object, got " + o);
    }

    /** A QMP {@code error} reply. */
    public static final class QmpException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final Map<String, Object> error;

        QmpException(String command, Map<String, Object> error) {
            super("QMP " + command + " failed: " + error);
            this.error = error;
        }

        /** {@code class} and {@code desc} of the error. */
        public Map<String, Object> error() {
            return error;
        }
    }
}
