package org.spicestream.benchmarks.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessage;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.VideoCodec;

/**
 * The raw-relay baseline: the guest's byte stream copied from the Unix socket to TCP readers with the simplest
 * loop there is (one blocking read into one 64 KiB buffer, then one blocking write of it to each reader in turn).
 * It sends CAPABILITIES and START_STOP(MJPEG) once so that the generator starts; it does not parse anything.
 * This is the limit of the machine for the data path, not a server: a slow reader blocks everyone.
 *
 * <p>As a process: {@code RawRelay GUEST_SOCKET PORT READERS} (listens on 127.0.0.1:PORT).
 */
public final class RawRelay implements Runnable, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RawRelay.class);

    /** Bytes one read from the guest may fill: the server's transport read size. */
    public static final int READ_SIZE = 64 * 1024;
    /** How long to retry connecting to the guest socket. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);
    /** Pause between connection attempts. */
    static final long CONNECT_RETRY_MS = 20;

    private final Path guestSocket;
    private final ServerSocketChannel listener;
    private final int readers;
    private final CountDownLatch started = new CountDownLatch(1);
    private volatile boolean closed;
    private volatile long bytesRelayed;
    private final List<SocketChannel> open = new ArrayList<>();

    /** Binds {@code listen} at once (port 0: any); {@link #run()} then accepts {@code readers} readers. */
    public RawRelay(Path guestSocket, InetSocketAddress listen, int readers) throws IOException {
        this.guestSocket = guestSocket;
        this.readers = readers;
        this.listener = ServerSocketChannel.open().bind(listen);
    }

    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    public long bytesRelayed() {
        return bytesRelayed;
    }

    @Override
    public void run() {
        try {
            SocketChannel guest = connectGuest();
            List<SocketChannel> out = new ArrayList<>();
            for (int i = 0; i < readers; i++) {
                SocketChannel r = listener.accept();
                r.setOption(StandardSocketOptions.TCP_NODELAY, true);
                register(r);
                out.add(r);
            }
            SocketChannel[] targets = out.toArray(new SocketChannel[0]);
            send(guest, Capabilities.of());
            send(guest, StartStop.of(VideoCodec.MJPEG));
            started.countDown();
            ByteBuffer buf = ByteBuffer.allocateDirect(READ_SIZE);
            long total = 0;
            while (!closed) {
                buf.clear();
                int n = guest.read(buf);
                if (n < 0) {
                    break;
                }
                buf.flip();
                for (SocketChannel t : targets) {
                    buf.rewind();
                    while (buf.hasRemaining()) {
                        t.write(buf);
                    }
                }
                total += n;
                bytesRelayed = total;
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.warn("relay stopped: {}", e.toString());
            }
        } finally {
            started.countDown();
        }
    }

    /** Waits until the readers are connected and the guest was started. */
    public boolean awaitStarted(Duration timeout) throws InterruptedException {
        return started.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void register(SocketChannel ch) throws IOException {
        if (closed) {
            ch.close();
            throw new IOException("closed");
        }
        open.add(ch);
    }

    private SocketChannel connectGuest() throws IOException {
        long deadline = System.nanoTime() + CONNECT_TIMEOUT.toNanos();
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(guestSocket));
                register(ch);
                return ch;
            } catch (IOException e) {
                ch.close();
                if (closed || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                try {
                    Thread.sleep(CONNECT_RETRY_MS);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ie);
                }
            }
        }
    }

    private static void send(SocketChannel ch, StreamMessage m) throws IOException {
        ByteBuf b = StreamMessages.encode(m, UnpooledByteBufAllocator.DEFAULT);
        try {
            ByteBuffer nio = b.nioBuffer();
            while (nio.hasRemaining()) {
                ch.write(nio);
            }
        } finally {
            b.release();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        listener.close();
        for (SocketChannel ch : open) {
            ch.close();
        }
    }

    /** {@code RawRelay GUEST_SOCKET PORT READERS}: relays until the guest or a reader goes away, or SIGTERM. */
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: RawRelay GUEST_SOCKET PORT READERS");
        }
        RawRelay relay = new RawRelay(Path.of(args[0]),
                new InetSocketAddress("127.0.0.1", Integer.parseInt(args[1])), Integer.parseInt(args[2]));
        relay.run();
        relay.close();
    }
}
