package org.spicestream.distribution.input;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * QEMU's QMP socket played by the test (the approach of transport-virtio's test of the same name): a real Unix
 * socket server that greets, answers {@code qmp_capabilities} and the commands given to {@link #answer}, and records
 * every line it receives. One client at a time, like QEMU.
 */
final class FakeQmpServer implements AutoCloseable {

    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
            + " \"package\": \"\"}, \"capabilities\": [\"oob\"]}}";
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    private static final Pattern COMMAND = Pattern.compile("\"execute\":\"([^\"]+)\"");
    private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");
    private static final Pattern QOM_PATH = Pattern.compile("\"path\":\"([^\"]+)\"");

    final Path path;
    private final ServerSocketChannel server;
    private final Thread thread;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Map<String, String> answers = new ConcurrentHashMap<>();
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

    /** The JSON {@code return} of {@code command}; for {@code qom-get} the key is {@code qom-get PATH}. */
    FakeQmpServer answer(String command, String json) {
        answers.put(command, json);
        return this;
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel ch = server.accept()) {
                client = ch;
                write(GREETING);
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    respond(line);
                }
            } catch (IOException e) {
                // the client went away or the server is closing
            } finally {
                client = null;
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
        } else {
            write("{\"return\":" + answer + id + "}");
        }
    }

    private synchronized void write(String line) throws IOException {
        SocketChannel ch = client;
        if (ch == null) {
            throw new IOException("no QMP client connected");
        }
        ByteBuffer buf = ByteBuffer.wrap((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Skips received lines until one runs {@code command}; returns it. */
    String awaitCommand(String command, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String l = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (l == null) {
                throw new AssertionError("no QMP " + command + " received within " + timeout);
            }
            if (l.contains("\"execute\":\"" + command + "\"")) {
                return l;
            }
        }
    }

    /** The next received line running {@code command}, or null if none arrives within {@code timeout}. */
    String pollCommand(String command, Duration timeout) throws InterruptedException {
        try {
            return awaitCommand(command, timeout);
        } catch (AssertionError e) {
            return null;
        }
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
            thread.join(JOIN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
