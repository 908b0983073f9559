package org.spicestream.transport.virtio;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for QEMU's QMP socket in tests: a real Unix socket server that greets, answers {@code
 * qmp_capabilities} and the commands configured with {@link #answer}, records every line it receives, and can push
 * events or raw bytes to the connected client. One client at a time, like QEMU.
 */
final class FakeQmpServer implements AutoCloseable {

    static final String GREETING =
            "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"},"
                    + " \"capabilities\": [\"oob\"]}}";

    private static final Pattern COMMAND = Pattern.compile("\"execute\":\"([^\"]+)\"");
    private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");
    private static final Pattern QOM_PATH = Pattern.compile("\"path\":\"([^\"]+)\"");

    final Path path;
    private final ServerSocketChannel server;
    private final Thread thread;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Map<String, String> answers = new ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger disconnections = new AtomicInteger();
    private volatile SocketChannel client;
    private volatile boolean closed;

    FakeQmpServer(Path path) throws IOException {
        this.path = path;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        answers.put("qmp_capabilities", "{}");
        answers.put("input-send-event", "{}");
        thread = new Thread(this::serve, "fake-qmp");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * The JSON {@code return} value for {@code command}; for {@code qom-get} the key is {@code qom-get PATH}. A value
     * starting with {@code error:} answers with an error of that description.
     */
    FakeQmpServer answer(String command, String json) {
        answers.put(command, json);
        return this;
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel ch = server.accept()) {
                client = ch;
                connections.incrementAndGet();
                OutputStream out = Channels.newOutputStream(ch);
                write(GREETING);
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    respond(line);
                }
                out.flush();
            } catch (IOException e) {
                // The client went away or the server is closing.
            } finally {
                client = null;
                disconnections.incrementAndGet();
            }
        }
    }

    private void respond(String line) throws IOException {
        Matcher c = COMMAND.matcher(line);
        if (!c.find()) {
            return;
        }
        String command = c.group(1);
        Matcher i = ID.matcher(line);
        String id = i.find() ? ",\"id\":\"" + i.group(1) + "\"" : "";
        String key = command;
        if (command.equals("qom-get")) {
            Matcher p = QOM_PATH.matcher(line);
            key = "qom-get " + (p.find() ? p.group(1) : "");
        }
        String answer = answers.get(key);
        if (answer == null) {
            write("{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"no " + key + "\"}" + id + "}");
        } else if (answer.startsWith("error:")) {
            write("{\"error\":{\"class\":\"GenericError\",\"desc\":\"" + answer.substring(6) + "\"}" + id + "}");
        } else {
            write("{\"return\":" + answer + id + "}");
        }
    }

    /** Writes one line (a newline is added) to the connected client. */
    synchronized void write(String line) throws IOException {
        writeRaw((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Writes bytes as they are to the connected client. */
    synchronized void writeRaw(byte[] bytes) throws IOException {
        SocketChannel ch = client;
        if (ch == null) {
            throw new IOException("no QMP client connected");
        }
        var buf = java.nio.ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Sends a VSERPORT_CHANGE event. */
    void portChange(String id, boolean open) throws IOException {
        write("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"VSERPORT_CHANGE\", \"data\": {\"open\": "
                + open + ", \"id\": \"" + id + "\"}}");
    }

    /** The next line received, waiting at most {@code timeout}. */
    String nextLine(Duration timeout) throws InterruptedException {
        String l = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (l == null) {
            throw new AssertionError("no QMP command received within " + timeout);
        }
        return l;
    }

    /** Skips received lines until one runs {@code command}; returns it. */
    String awaitCommand(String command, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String l = nextLine(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (l.contains("\"execute\":\"" + command + "\"")) {
                return l;
            }
        }
    }

    int connections() {
        return connections.get();
    }

    int disconnections() {
        return disconnections.get();
    }

    boolean hasClient() {
        return client != null;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        SocketChannel ch = client;
        if (ch != null) {
            ch.close();
        }
        server.close();
        Files.deleteIfExists(path);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
