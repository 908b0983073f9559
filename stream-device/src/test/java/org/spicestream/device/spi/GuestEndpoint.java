package org.spicestream.device.spi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The guest side of one transport connection, as a real socket (TCP or Unix domain), with blocking helpers that
 * all have a deadline. Used by the {@link TransportTestKit}.
 */
public final class GuestEndpoint implements AutoCloseable {

    private final SocketChannel channel;
    private final Selector selector;

    private GuestEndpoint(SocketChannel channel) throws IOException {
        this.channel = channel;
        if (channel.getRemoteAddress() instanceof InetSocketAddress) {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        channel.configureBlocking(false);
        this.selector = Selector.open();
    }

    /** Connects to a transport that listens at {@code address} (TCP or {@link UnixDomainSocketAddress}). */
    public static GuestEndpoint connect(SocketAddress address) throws IOException {
        SocketChannel ch = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(java.net.StandardProtocolFamily.UNIX)
                : SocketChannel.open();
        try {
            ch.connect(address);
            return new GuestEndpoint(ch);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
    }

    /** Accepts the next connection of a connecting transport, waiting at most {@code timeout}. */
    public static GuestEndpoint accept(ServerSocketChannel server, Duration timeout) throws IOException {
        server.configureBlocking(false);
        try (Selector sel = Selector.open()) {
            SelectionKey key = server.register(sel, SelectionKey.OP_ACCEPT);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                SocketChannel ch = server.accept();
                if (ch != null) {
                    key.cancel();
                    return new GuestEndpoint(ch);
                }
                long left = remainingMillis(deadline);
                if (left <= 0) {
                    throw new IOException("no connection from the transport within " + timeout);
                }
                sel.select(left);
                sel.selectedKeys().clear();
            }
        }
    }

    /** The underlying channel. */
    public SocketChannel channel() {
        return channel;
    }

    /** Writes all of {@code data}, waiting at most {@code timeout} for the transport to take it. */
    public void write(byte[] data, Duration timeout) throws IOException {
        write(data, 0, data.length, timeout);
    }

    /** Writes {@code len} bytes of {@code data} from {@code off}, waiting at most {@code timeout}. */
    public void write(byte[] data, int off, int len, Duration timeout) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(data, off, len);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (buf.hasRemaining()) {
            if (channel.write(buf) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "writing to the transport");
            }
        }
    }

    /**
     * Writes as much of {@code data} as the socket takes without blocking; returns the number of bytes written (0
     * when the socket's buffers are full).
     */
    public int writeNonBlocking(byte[] data, int off, int len) throws IOException {
        return channel.write(ByteBuffer.wrap(data, off, len));
    }

    /** Reads exactly {@code n} bytes, waiting at most {@code timeout}. */
    public byte[] readExactly(int n, Duration timeout) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (buf.hasRemaining()) {
            int r = channel.read(buf);
            if (r < 0) {
                throw new IOException("transport closed the connection after " + buf.position() + " of " + n
                        + " bytes");
            }
            if (r == 0) {
                await(SelectionKey.OP_READ, deadline, "reading " + n + " bytes from the transport");
            }
        }
        return buf.array();
    }

    /**
     * Waits at most {@code timeout} for the transport to close the connection; fails on unexpected data. Returns
     * normally when end-of-stream (or a reset) is seen.
     */
    public void awaitClosedByPeer(Duration timeout) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int r;
            try {
                r = channel.read(buf);
            } catch (IOException reset) {
                return;
            }
            if (r < 0) {
                return;
            }
            if (r > 0) {
                throw new IOException("expected the transport to close the connection, got " + r + " bytes");
            }
            await(SelectionKey.OP_READ, deadline, "waiting for the transport to close the connection");
        }
    }

    /** Closes abruptly: a TCP reset where possible, otherwise a plain close. */
    public void abort() {
        try {
            if (channel.getRemoteAddress() instanceof InetSocketAddress) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException e) {
            // Already gone: closing is all that is left.
        }
        close();
    }

    @Override
    public void close() {
        try {
            selector.close();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void await(int op, long deadline, String what) throws IOException {
        long left = remainingMillis(deadline);
        if (left <= 0) {
            throw new IOException("timed out " + what);
        }
        SelectionKey key = channel.register(selector, op);
        selector.select(left);
        selector.selectedKeys().clear();
        key.interestOps(0);
    }

    private static long remainingMillis(long deadline) {
        long left = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
        return Math.max(left, 0);
    }

    /** A short-timeout helper for tests: {@link Duration#ofSeconds(long)}. */
    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }
}
