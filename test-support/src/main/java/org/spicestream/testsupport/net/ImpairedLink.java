package org.spicestream.testsupport.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A slow network link in user space (this machine has no netem): a TCP proxy on loopback that forwards each
 * connection to {@code target} through two one-way links, each with a propagation delay, a bandwidth cap and a
 * bounded queue in front of the cap (a router's buffer). When the queue is full the proxy stops reading, so the
 * sender's TCP sees the back-pressure a real bottleneck gives. Bytes are never dropped or reordered.
 */
public final class ImpairedLink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ImpairedLink.class);

    /** Largest piece read at once: the granularity of the link's timing. */
    public static final int CHUNK = 16 * 1024;
    /** Socket buffers of the proxy's own connections: small, so that the link's queue is where bytes wait. */
    public static final int SOCKET_BUFFER = 64 * 1024;

    /**
     * One direction of the link.
     *
     * @param delay one-way propagation delay
     * @param bitsPerSecond bandwidth; 0 = unlimited
     * @param queueBytes bytes that may wait for the bandwidth (the bottleneck's buffer), at least {@link #CHUNK}
     */
    public record Direction(Duration delay, long bitsPerSecond, int queueBytes) {
        public Direction {
            if (delay.isNegative() || bitsPerSecond < 0 || queueBytes < CHUNK) {
                throw new IllegalArgumentException("delay >= 0, bitsPerSecond >= 0, queueBytes >= " + CHUNK);
            }
        }

        /** {@code delay} only, unlimited bandwidth. */
        public static Direction delay(Duration delay) {
            return new Direction(delay, 0, 256 * 1024);
        }

        /** Nanoseconds {@code bytes} take at the cap (0 when unlimited). */
        long transmitNanos(long bytes) {
            return bitsPerSecond == 0 ? 0 : bytes * 8 * 1_000_000_000L / bitsPerSecond;
        }
    }

    /** Counters of one direction, over all connections. */
    public static final class Counters {
        private final AtomicLong bytes = new AtomicLong();
        private final AtomicLong maxQueued = new AtomicLong();

        public long bytes() {
            return bytes.get();
        }

        /** Largest number of bytes seen waiting in the link (queue + propagation), over all connections. */
        public long maxQueued() {
            return maxQueued.get();
        }
    }

    private final InetSocketAddress target;
    private final Direction up;
    private final Direction down;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final List<SocketChannel> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Counters upCounters = new Counters();
    private final Counters downCounters = new Counters();
    private volatile boolean closed;

    private ImpairedLink(InetSocketAddress target, Direction up, Direction down) throws IOException {
        this.target = target;
        this.up = up;
        this.down = down;
        this.server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.acceptor = new Thread(this::acceptLoop, "impaired-link-accept");
        acceptor.setDaemon(true);
    }

    /**
     * Listens on a free loopback port and forwards to {@code target}: {@code up} is client → target, {@code down}
     * target → client.
     */
    public static ImpairedLink start(InetSocketAddress target, Direction up, Direction down) {
        try {
            ImpairedLink link = new ImpairedLink(target, up, down);
            link.acceptor.start();
            return link;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same link both ways. */
    public static ImpairedLink start(InetSocketAddress target, Direction both) {
        return start(target, both, both);
    }

    /** Where clients connect. */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Counters upCounters() {
        return upCounters;
    }

    public Counters downCounters() {
        return downCounters;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel client = server.accept();
                SocketChannel upstream = SocketChannel.open();
                for (SocketChannel s : List.of(client, upstream)) {
                    s.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    s.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
                    s.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                    sockets.add(s);
                }
                upstream.connect(target);
                pipe(client, upstream, up, upCounters, "up");
                pipe(upstream, client, down, downCounters, "down");
            } catch (IOException e) {
                if (!closed) {
                    LOG.debug("impaired link: accept/connect failed: {}", e.toString());
                }
            }
        }
    }

    /** A chunk on its way: its bytes and when it leaves the far end of the link. */
    private record Chunk(ByteBuffer bytes, long deliverAt) {}

    private void pipe(SocketChannel from, SocketChannel to, Direction d, Counters counters, String name) {
        ReentrantLock lock = new ReentrantLock();
        Condition changed = lock.newCondition();
        ArrayDeque<Chunk> inFlight = new ArrayDeque<>();
        long[] queued = {0};
        boolean[] eof = {false};
        // What may wait in the link: the bottleneck's queue plus what is on the wire at full rate.
        long bound = d.queueBytes() + (d.bitsPerSecond() == 0 ? 0 : d.bitsPerSecond() / 8 * d.delay().toNanos() / 1_000_000_000L);
        long queueNanos = d.transmitNanos(d.queueBytes());

        Thread reader = new Thread(() -> {
            long linkFreeAt = System.nanoTime();
            try {
                while (!closed) {
                    ByteBuffer buf = ByteBuffer.allocate(CHUNK);
                    if (from.read(buf) < 0) {
                        break;
                    }
                    buf.flip();
                    long now = System.nanoTime();
                    // The bottleneck's queue holds at most queueBytes: wait (and stop reading) while it is full.
                    while (d.bitsPerSecond() > 0 && linkFreeAt - now > queueNanos) {
                        LockSupport.parkNanos(linkFreeAt - now - queueNanos);
                        now = System.nanoTime();
                    }
                    long start = Math.max(now, linkFreeAt);
                    linkFreeAt = start + d.transmitNanos(buf.remaining());
                    Chunk c = new Chunk(buf, linkFreeAt + d.delay().toNanos());
                    lock.lock();
                    try {
                        while (queued[0] + buf.remaining() > bound + CHUNK && !closed) {
                            changed.await(10, TimeUnit.MILLISECONDS);
                        }
                        inFlight.add(c);
                        queued[0] += buf.remaining();
                        counters.maxQueued.accumulateAndGet(queued[0], Math::max);
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
            } catch (IOException | InterruptedException e) {
                // closed
            } finally {
                lock.lock();
                try {
                    eof[0] = true;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }, "impaired-link-" + name + "-in");
        Thread writer = new Thread(() -> {
            try {
                while (!closed) {
                    Chunk c;
                    lock.lock();
                    try {
                        while (inFlight.isEmpty() && !eof[0] && !closed) {
                            changed.await(10, TimeUnit.MILLISECONDS);
                        }
                        c = inFlight.peek();
                        if (c == null) {
                            break;
                        }
                    } finally {
                        lock.unlock();
                    }
                    long wait = c.deliverAt() - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait); // the link's own timing, not a test's synchronization
                        continue;
                    }
                    int n = c.bytes().remaining();
                    while (c.bytes().hasRemaining()) {
                        to.write(c.bytes());
                    }
                    counters.bytes.addAndGet(n);
                    lock.lock();
                    try {
                        inFlight.poll();
                        queued[0] -= n;
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                }
                to.shutdownOutput();
            } catch (IOException | InterruptedException e) {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "impaired-link-" + name + "-out");
        for (Thread t : List.of(reader, writer)) {
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private static void closeQuietly(SocketChannel s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        sockets.forEach(ImpairedLink::closeQuietly);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
