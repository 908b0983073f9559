package org.spicestream.it.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host end of the stream port, spoken byte by byte by a test instead of the server: connects to
 * QEMU's chardev socket, sends hand-built messages and collects the guest's, parsed with an
 * independent few-line parser (so it can check the guest kit, and later the server's parser).
 */
public final class RawStreamHost implements AutoCloseable {

    public static final int CAPABILITIES = 1;
    public static final int FORMAT = 2;
    public static final int DATA = 3;
    public static final int START_STOP = 4;
    public static final int NOTIFY_ERROR = 5;
    public static final int CURSOR_SET = 6;
    public static final int CURSOR_MOVE = 7;
    public static final int HEADER_SIZE = 8;
    /** Largest payload accepted from the guest (the DATA limit of the protocol). */
    public static final int MAX_PAYLOAD = 32 * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(RawStreamHost.class);
    private static final Message EOF = new Message(-1, new byte[0], 0);

    private final SocketChannel channel;
    private final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
    private final AtomicLongArray counts = new AtomicLongArray(16);
    private volatile boolean eof;

    /** One guest message, with {@link System#nanoTime()} when its header was read. */
    public record Message(int type, byte[] payload, long receivedNanos) {
        public int u32(int offset) {
            return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
        }

        public int u8(int offset) {
            return payload[offset] & 0xff;
        }

        @Override
        public String toString() {
            return "Message[type=" + type + ", size=" + payload.length + "]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && m.type == type && Arrays.equals(m.payload, payload);
        }

        @Override
        public int hashCode() {
            return 31 * type + Arrays.hashCode(payload);
        }
    }

    private RawStreamHost(SocketChannel channel) {
        this.channel = channel;
        Thread reader = new Thread(this::readLoop, "raw-stream-host");
        reader.setDaemon(true);
        reader.start();
    }

    /** Connects to the chardev socket, waiting up to {@code timeout} for QEMU to create it. */
    public static RawStreamHost connect(Path socket, Duration timeout) {
        AtomicReference<SocketChannel> connected = new AtomicReference<>();
        Awaitility.await("chardev socket " + socket).atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
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
        return new RawStreamHost(connected.get());
    }

    /** Sends one message with a correct header. */
    public void send(int type, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 1).put((byte) 0).putShort((short) type).putInt(payload.length).put(payload);
        sendRaw(b.array());
    }

    /** CAPABILITIES with this bitmap (the reference host sends one zero byte). */
    public void sendCapabilities(byte... bitmap) {
        send(CAPABILITIES, bitmap);
    }

    /** START_STOP listing these codecs (none = stop). */
    public void sendStartStop(int... codecs) {
        byte[] p = new byte[1 + codecs.length];
        p[0] = (byte) codecs.length;
        for (int i = 0; i < codecs.length; i++) {
            p[i + 1] = (byte) codecs[i];
        }
        send(START_STOP, p);
    }

    /** NOTIFY_ERROR code 0 with the text NUL-terminated, as the reference host sends it. */
    public void sendNotifyError(String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + t.length + 1).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0).put(t).put((byte) 0);
        send(NOTIFY_ERROR, b.array());
    }

    /** Writes bytes as they are (for malformed input). */
    public void sendRaw(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            synchronized (channel) {
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("write to the guest port", e);
        }
    }

    /** The next guest message of any type; fails on timeout or end of stream. */
    public Message next(Duration timeout) {
        return poll(timeout).orElseThrow(() -> new AssertionError("no message from the guest within " + timeout));
    }

    /** The next guest message, or empty if none came within {@code timeout}; fails at end of stream. */
    public Optional<Message> poll(Duration timeout) {
        try {
            Message m = received.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (m == EOF) {
                received.add(EOF);
                throw new AssertionError("the guest port's socket was closed (EOF)");
            }
            return Optional.ofNullable(m);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The next message of {@code type}; messages of other types before it are dropped. */
    public Message await(int type, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Optional<Message> m = poll(Duration.ofNanos(Math.max(0, left)));
            if (m.isPresent() && m.get().type() == type) {
                return m.get();
            }
            if (m.isEmpty()) {
                throw new AssertionError("no message of type " + type + " from the guest within " + timeout);
            }
        }
    }

    /** Drops whatever was received and not yet taken. */
    public void drain() {
        received.removeIf(m -> m != EOF);
    }

    /** True once the socket reached end of stream (QEMU closed it). */
    public boolean isEof() {
        return eof;
    }

    /** Messages of {@code type} received so far (taken or not). */
    public long count(int type) {
        return type >= 0 && type < counts.length() ? counts.get(type) : 0;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing the stream port socket: {}", e.toString());
        }
    }

    private void readLoop() {
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (true) {
                header.clear();
                if (!readFully(header)) {
                    break;
                }
                long when = System.nanoTime();
                int version = header.get(0) & 0xff;
                int type = header.getShort(2) & 0xffff;
                long size = header.getInt(4) & 0xffffffffL;
                if (version != 1 || size > MAX_PAYLOAD) {
                    throw new IOException("bad header from the guest: version " + version + " type " + type + " size " + size);
                }
                ByteBuffer payload = ByteBuffer.allocate((int) size);
                if (!readFully(payload)) {
                    throw new IOException("EOF inside a message of type " + type);
                }
                if (type < counts.length()) {
                    counts.incrementAndGet(type);
                }
                received.add(new Message(type, payload.array(), when));
            }
        } catch (IOException e) {
            LOG.debug("stream port reader ends: {}", e.toString());
        } finally {
            eof = true;
            received.add(EOF);
        }
    }

    private boolean readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                return false;
            }
        }
        return true;
    }
}
