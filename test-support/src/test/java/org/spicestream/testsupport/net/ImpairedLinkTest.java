package org.spicestream.testsupport.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.testsupport.net.ImpairedLink.Direction;

/** The user-space link: it delays, caps and bounds what it carries, and loses nothing (real loopback sockets). */
class ImpairedLinkTest {

    private ServerSocketChannel server;
    private Thread serverThread;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        if (serverThread != null) {
            serverThread.interrupt();
            serverThread.join(2000);
        }
    }

    /** A server whose only connection runs {@code handler}. */
    private InetSocketAddress serve(ConnectionHandler handler) throws IOException {
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        serverThread = new Thread(() -> {
            try (SocketChannel c = server.accept()) {
                handler.handle(c);
            } catch (IOException e) {
                // closed by the test
            }
        });
        serverThread.setDaemon(true);
        serverThread.start();
        return (InetSocketAddress) server.getLocalAddress();
    }

    private interface ConnectionHandler {
        void handle(SocketChannel c) throws IOException;
    }

    @Test
    void eachDirectionAddsItsDelayAndTheBytesComeBackIntact() throws Exception {
        InetSocketAddress echo = serve(c -> {
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (c.read(b.clear()) >= 0) {
                b.flip();
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
        });
        try (ImpairedLink link = ImpairedLink.start(echo, Direction.delay(Duration.ofMillis(40)),
                Direction.delay(Duration.ofMillis(25)));
                SocketChannel client = SocketChannel.open(link.address())) {
            byte[] sent = new byte[100_000];
            new java.util.Random(1).nextBytes(sent);
            long t0 = System.nanoTime();
            ByteBuffer out = ByteBuffer.wrap(sent);
            ByteBuffer in = ByteBuffer.allocate(sent.length);
            long firstByte = 0;
            while (in.hasRemaining()) {
                if (out.hasRemaining()) {
                    client.write(out);
                }
                client.read(in);
                if (firstByte == 0 && in.position() > 0) {
                    firstByte = System.nanoTime();
                }
            }
            assertThat(in.array()).isEqualTo(sent);
            assertThat(Duration.ofNanos(firstByte - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(65));
            assertThat(link.upCounters().bytes()).isEqualTo(sent.length);
            assertThat(link.downCounters().bytes()).isEqualTo(sent.length);
        }
    }

    @Test
    void theBandwidthCapSpreadsTheBytesOverTime() throws Exception {
        AtomicLong received = new AtomicLong();
        InetSocketAddress sink = serve(c -> {
            ByteBuffer b = ByteBuffer.allocate(65536);
            int n;
            while ((n = c.read(b.clear())) >= 0) {
                received.addAndGet(n);
            }
        });
        long bits = 8_000_000; // 1 MB/s
        int size = 512 * 1024;
        try (ImpairedLink link = ImpairedLink.start(sink, new Direction(Duration.ZERO, bits, 64 * 1024),
                Direction.delay(Duration.ZERO));
                SocketChannel client = SocketChannel.open(link.address())) {
            long t0 = System.nanoTime();
            ByteBuffer out = ByteBuffer.allocate(size);
            while (out.hasRemaining()) {
                client.write(out);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> received.get() == size);
            long elapsed = System.nanoTime() - t0;
            // At 1 MB/s 512 KiB take 0.52 s; the first chunk leaves at once, so a little less is possible.
            assertThat(Duration.ofNanos(elapsed)).isGreaterThanOrEqualTo(Duration.ofMillis(480));
        }
    }

    @Test
    void aReceiverThatDoesNotReadFillsOnlyTheBoundedQueueAndTheSenderIsHeldBack() throws Exception {
        InetSocketAddress stuck = serve(c -> {
            try {
                new java.util.concurrent.CountDownLatch(1).await(); // never reads, until interrupted
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        int queue = 64 * 1024;
        try (ImpairedLink link = ImpairedLink.start(stuck, new Direction(Duration.ofMillis(10), 80_000_000, queue),
                Direction.delay(Duration.ZERO));
                SocketChannel client = SocketChannel.open(link.address())) {
            client.configureBlocking(false);
            ByteBuffer out = ByteBuffer.allocate(64 * 1024);
            long written = 0;
            long stalledSince = System.nanoTime();
            // Write until the sender has been held back for half a second: the proxy stopped reading.
            while (System.nanoTime() - stalledSince < 500_000_000L) {
                int n = client.write(out.clear());
                if (n > 0) {
                    written += n;
                    stalledSince = System.nanoTime();
                }
                assertThat(written).as("the link never stops taking bytes").isLessThan(64L * 1024 * 1024);
            }
            // queue + what is on the wire at full rate (100 KB in 10 ms) + one read, never more.
            long bound = queue + 80_000_000 / 8 / 100 + ImpairedLink.CHUNK;
            assertThat(link.upCounters().maxQueued()).isLessThanOrEqualTo(bound);
            assertThat(written).isLessThan(16L * 1024 * 1024);
        }
    }
}
