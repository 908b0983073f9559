package org.spicestream.it.robustness;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.HostStreamParser;
import org.spicestream.protocol.MessageType;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessage;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.VideoCodec;

/**
 * A guest end of the stream port written byte by byte: blocking unix socket, optional reader thread that parses
 * what the host sends. It can stop anywhere (mid-header, mid-frame), flood, or never read.
 */
final class RawGuest implements AutoCloseable {

    static final int HEADER_SIZE = 8;

    private final SocketChannel channel;
    private final List<HostMessage> received = new CopyOnWriteArrayList<>();
    private final BlockingQueue<HostMessage> inbox = new LinkedBlockingQueue<>();
    private final Thread reader;

    private RawGuest(SocketChannel channel, boolean read) {
        this.channel = channel;
        if (read) {
            reader = new Thread(this::readLoop, "raw-guest-reader");
            reader.setDaemon(true);
            reader.start();
        } else {
            reader = null;
        }
    }

    /** Opens the port; {@code read}: whether anything the host sends is read at all. */
    static RawGuest open(Path socket, boolean read) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new RawGuest(ch, read);
    }

    List<HostMessage> received() {
        return received;
    }

    /** Waits for a non-empty START_STOP (what a real agent waits for before its FORMAT). */
    StartStop awaitStart(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                HostMessage m = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) {
                    throw new AssertionError("no START_STOP within " + timeout + "; received " + received);
                }
                if (m instanceof StartStop s && !s.isStop()) {
                    return s;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Next host message, or null within {@code timeout}. */
    HostMessage next(Duration timeout) throws InterruptedException {
        return inbox.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    StartStop lastStartStop() {
        for (int i = received.size() - 1; i >= 0; i--) {
            if (received.get(i) instanceof StartStop s) {
                return s.isStop() ? null : s;
            }
        }
        return null;
    }

    void send(StreamMessage... messages) throws IOException {
        for (StreamMessage m : messages) {
            ByteBuf bytes = StreamMessages.encode(m, ByteBufAllocator.DEFAULT);
            try {
                write(bytes.nioBuffer());
            } finally {
                bytes.release();
            }
        }
    }

    void format(int width, int height, VideoCodec codec) throws IOException {
        send(new Format(width, height, codec));
    }

    void frame(byte[] payload) throws IOException {
        send(new Data(Unpooled.wrappedBuffer(payload)));
    }

    /** A DATA header announcing {@code size} bytes followed by only {@code written} of them. */
    void partialFrame(int size, int written) throws IOException {
        ByteBuffer b = header(MessageType.DATA, size);
        write(b);
        write(ByteBuffer.allocate(written));
    }

    static ByteBuffer header(int type, int size) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 1).put((byte) 0).putShort((short) type).putInt(size).flip();
        return b;
    }

    void write(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    private void readLoop() {
        HostStreamParser parser = new HostStreamParser();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try {
            while (channel.read(buffer.clear()) >= 0) {
                buffer.flip();
                parser.parse(Unpooled.wrappedBuffer(buffer), m -> {
                    received.add(m);
                    inbox.add(m);
                });
            }
        } catch (IOException | RuntimeException e) {
            // closed (by us or the host)
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
        if (reader != null) {
            try {
                reader.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
