package org.spicestream.device.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite every transport module runs against itself: a subclass supplies the provider under test and the
 * guest side of a connection (a real socket), the kit checks the {@link GuestTransport} contract.
 *
 * <p>Nothing sleeps: every wait is a deadline on a condition. Buffers are released everywhere, and the build's
 * leak detection (PARANOID) fails the class on a leak.
 */
public abstract class TransportTestKit {

    /** Longest wait for any expected event. */
    protected static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Size of the large frame streamed guest → host: the protocol's largest DATA payload, 32 MiB. */
    protected static final int LARGE_FRAME_BYTES = 32 * 1024 * 1024;

    /** Open / close cycles in the reopen test. */
    protected static final int REOPEN_CYCLES = 20;

    /** Upper bound of bytes the back-pressure test writes before the guest's socket must block (256 MiB). */
    protected static final long BACKPRESSURE_WRITE_LIMIT = 256L * 1024 * 1024;

    private static final int CHUNK = 64 * 1024;

    /** The guest side of the transport under test, created for each test. */
    public interface GuestSide extends AutoCloseable {
        /** The URI the transport under test is created with. */
        URI uri();

        /**
         * Establishes the next guest connection: accepts the transport's connection (connecting transports) or
         * connects to it (listening ones; {@code transport} has been started).
         */
        GuestEndpoint openGuest(GuestTransport transport) throws IOException;

        /**
         * Stops taking new connections from a connecting transport (close the guest-side listener), so that the
         * port stays closed after the current guest connection ends. A connecting transport otherwise reconnects at
         * once to a guest side that still listens, which reopens the port. No-op for listening transports.
         */
        default void stopAccepting() throws IOException {}

        @Override
        void close() throws IOException;
    }

    /** A short temporary directory for Unix socket paths. */
    @TempDir
    protected Path tempDir;

    protected EventLoopGroup group;
    protected GuestSide guestSide;
    protected GuestTransport transport;
    protected RecordingPortHandler port;
    private final List<GuestEndpoint> endpoints = new ArrayList<>();

    /** The provider under test, configured for fast reconnects. */
    protected abstract TransportProvider provider();

    /** A new guest side (server socket for connecting transports, address holder for listening ones). */
    protected abstract GuestSide newGuestSide() throws IOException;

    /** The event loop group for the transport; NIO unless overridden. */
    protected EventLoopGroup newEventLoopGroup() {
        return new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @BeforeEach
    void setUpTransport() throws IOException {
        group = newEventLoopGroup();
        guestSide = newGuestSide();
        transport = provider().create(guestSide.uri(), TransportContext.of(group, "kit-device"));
        port = new RecordingPortHandler(transport);
    }

    @AfterEach
    void tearDownTransport() throws IOException {
        for (GuestEndpoint e : endpoints) {
            e.close();
        }
        try {
            transport.close();
            guestSide.close();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        assertThat(port.violations()).as("contract violations").isEmpty();
    }

    /** Starts the transport and opens one guest connection; returns once {@code portOpened} was delivered. */
    protected GuestEndpoint startAndOpen() throws IOException {
        transport.start(port);
        return openGuest(1);
    }

    /** Opens the next guest connection and waits until it is the {@code expectedOpens}-th {@code portOpened}. */
    protected GuestEndpoint openGuest(long expectedOpens) throws IOException {
        GuestEndpoint guest = guestSide.openGuest(transport);
        endpoints.add(guest);
        await().atMost(TIMEOUT).until(() -> port.openCount() == expectedOpens);
        return guest;
    }

    @Test
    void guestConnectingOpensThePort() throws IOException {
        startAndOpen();

        assertThat(port.events()).containsExactly("open");
        assertThat(port.isOpen()).isTrue();
    }

    @Test
    void guestClosingClosesThePort() throws IOException {
        GuestEndpoint guest = startAndOpen();

        guest.close();

        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        // A connecting transport may have reconnected already (the port reopens); the order is what matters.
        assertThat(port.events().subList(0, 2)).containsExactly("open", "close");
    }

    @Test
    void reopenManyTimes() throws IOException {
        transport.start(port);
        for (int i = 1; i <= REOPEN_CYCLES; i++) {
            GuestEndpoint guest = openGuest(i);
            byte[] marker = {(byte) i};
            guest.write(marker, TIMEOUT);
            long expected = i;
            await().atMost(TIMEOUT).until(() -> port.received() == expected);
            guest.close();
            await().atMost(TIMEOUT).until(() -> port.closeCount() == expected);
        }
        List<String> expectedEvents = new ArrayList<>();
        byte[] expectedBytes = new byte[REOPEN_CYCLES];
        for (int i = 1; i <= REOPEN_CYCLES; i++) {
            expectedEvents.add("open");
            expectedEvents.add("close");
            expectedBytes[i - 1] = (byte) i;
        }
        // A connecting transport reconnects after the last close; a listening one does not.
        assertThat(port.events().subList(0, expectedEvents.size())).isEqualTo(expectedEvents);
        assertThat(port.events().size()).isLessThanOrEqualTo(expectedEvents.size() + 1);
        assertThat(port.receivedBytes()).isEqualTo(expectedBytes);
    }

    @Test
    void messageSplitArbitrarilyArrivesByteExactInOrder() throws IOException {
        GuestEndpoint guest = startAndOpen();
        Random random = new Random(42);
        byte[] message = randomBytes(random, 100_000);

        int off = 0;
        while (off < message.length) {
            int len = Math.min(message.length - off, 1 + random.nextInt(random.nextBoolean() ? 8 : 5000));
            guest.write(message, off, len, TIMEOUT);
            off += len;
        }

        await().atMost(TIMEOUT).until(() -> port.received() == message.length);
        assertThat(port.receivedBytes()).isEqualTo(message);
    }

    @Test
    void pausedReadingStopsDeliveryAndBlocksTheGuestThenResumeDeliversEverything() throws Exception {
        GuestEndpoint guest = startAndOpen();
        port.pause();
        MessageDigest written = RecordingPortHandler.newDigest();
        Random random = new Random(7);
        byte[] chunk = randomBytes(random, CHUNK);
        long total = 0;

        // Write until the guest's socket takes nothing more: the transport no longer reads, so the socket
        // buffers fill up and a blocking guest would now block.
        while (true) {
            int n = guest.writeNonBlocking(chunk, 0, chunk.length);
            if (n == 0) {
                break;
            }
            written.update(chunk, 0, n);
            total += n;
            assertThat(total).as("bytes accepted by a paused transport").isLessThan(BACKPRESSURE_WRITE_LIMIT);
        }
        assertThat(port.received()).as("bytes delivered while paused").isZero();
        assertThat(total).isPositive();

        port.resume();

        long expected = total;
        await().atMost(TIMEOUT).until(() -> port.received() == expected);
        assertThat(port.receivedSha256()).isEqualTo(HexFormat.of().formatHex(written.digest()));
        assertThat(port.violations()).isEmpty();
    }

    @Test
    void bytesThePortAnnouncesAreReadInOneGo() throws Exception {
        GuestEndpoint guest = startAndOpen();
        port.pause();
        byte[] chunk = randomBytes(new Random(11), CHUNK);
        long total = 0;
        // As much as the sockets hold while nothing is read, up to one frame read
        while (total < TransportContext.DEFAULT_MAX_FRAME_READ_SIZE) {
            int n = guest.writeNonBlocking(chunk, 0,
                    (int) Math.min(chunk.length, TransportContext.DEFAULT_MAX_FRAME_READ_SIZE - total));
            if (n == 0) {
                break;
            }
            total += n;
        }
        assertThat(total).as("the sockets hold more than one unannounced read").isGreaterThan(
                TransportContext.DEFAULT_READ_BUFFER_SIZE);
        port.announce(total); // what a parser knows after a frame header
        port.resume();
        long expected = total;
        await().atMost(TIMEOUT).until(() -> port.received() == expected);
        // The first read takes what the host's socket holds (a Unix socket: everything; TCP: its receive window),
        // which is more than any read without the announcement may take.
        assertThat(port.largestRead()).as("reads sized to the announced rest, not %d-byte reads",
                TransportContext.DEFAULT_READ_BUFFER_SIZE).isGreaterThan(TransportContext.DEFAULT_READ_BUFFER_SIZE);
    }

    @Test
    void pauseSurvivesReconnection() throws Exception {
        GuestEndpoint first = startAndOpen();
        port.pause();
        first.close();
        port.resume();
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        port.pause();

        GuestEndpoint second = openGuest(2);
        second.write(new byte[] {1, 2, 3}, TIMEOUT);
        // The write is in the transport's socket now; a round trip on the executor must not deliver it.
        transport.executor().submit(() -> {}).get();
        assertThat(port.received()).isZero();

        port.resume();
        await().atMost(TIMEOUT).until(() -> port.received() == 3);
    }

    @Test
    void peerVanishingMidMessageClosesThePortWithoutLeaking() throws IOException {
        GuestEndpoint guest = startAndOpen();
        byte[] half = randomBytes(new Random(3), 50_000);

        guest.write(half, TIMEOUT);
        guest.abort();

        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        byte[] got = port.receivedBytes();
        assertThat(got.length).isLessThanOrEqualTo(half.length);
        assertThat(got).isEqualTo(java.util.Arrays.copyOf(half, got.length));
    }

    @Test
    void peerVanishingWhileReadingIsPausedClosesThePortWithoutLeaking() throws Exception {
        GuestEndpoint guest = startAndOpen();
        port.pause();
        guest.write(randomBytes(new Random(4), 200_000), TIMEOUT);
        guest.abort();

        port.resume();

        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        assertThat(port.received()).isLessThanOrEqualTo(200_000);
    }

    @Test
    void largeFrameStreamsIntact() throws Exception {
        GuestEndpoint guest = startAndOpen();
        MessageDigest written = RecordingPortHandler.newDigest();
        Random random = new Random(32);
        byte[] chunk = new byte[CHUNK];

        for (int off = 0; off < LARGE_FRAME_BYTES; off += CHUNK) {
            random.nextBytes(chunk);
            written.update(chunk);
            guest.write(chunk, TIMEOUT);
        }

        await().atMost(TIMEOUT).until(() -> port.received() == LARGE_FRAME_BYTES);
        assertThat(port.receivedSha256()).isEqualTo(HexFormat.of().formatHex(written.digest()));
    }

    @Test
    void hostToGuestWritesArriveByteExact() throws IOException {
        GuestEndpoint guest = startAndOpen();
        Random random = new Random(11);
        byte[] all = randomBytes(random, 3 * 1024 * 1024 + 17);

        int off = 0;
        while (off < all.length) {
            int len = Math.min(all.length - off, 1 + random.nextInt(100_000));
            ByteBuf buf = Unpooled.buffer(len).writeBytes(all, off, len);
            assertThat(transport.write(buf)).isTrue();
            off += len;
        }

        assertThat(guest.readExactly(all.length, TIMEOUT)).isEqualTo(all);
    }

    @Test
    void writesWithoutAGuestAreRejectedAndReleased() throws IOException {
        ByteBuf beforeStart = Unpooled.buffer(4).writeInt(1);
        assertThat(transport.write(beforeStart)).isFalse();
        assertThat(beforeStart.refCnt()).isZero();

        GuestEndpoint guest = startAndOpen();
        guestSide.stopAccepting();
        guest.close();
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);

        ByteBuf afterClose = Unpooled.buffer(4).writeInt(2);
        assertThat(transport.write(afterClose)).isFalse();
        assertThat(afterClose.refCnt()).isZero();

        transport.close();
        ByteBuf afterTransportClose = Unpooled.buffer(4).writeInt(3);
        assertThat(transport.write(afterTransportClose)).isFalse();
        assertThat(afterTransportClose.refCnt()).isZero();
    }

    @Test
    void closingTheTransportClosesThePortAndTheGuestConnection() throws IOException {
        GuestEndpoint guest = startAndOpen();

        transport.close();

        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        guest.awaitClosedByPeer(TIMEOUT);
        transport.close(); // idempotent
        assertThat(port.events()).containsExactly("open", "close");
    }

    @Test
    void disconnectGuestFlushesPendingWritesThenClosesThePort() throws IOException {
        GuestEndpoint guest = startAndOpen();
        byte[] notice = "last words".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        assertThat(transport.write(Unpooled.wrappedBuffer(notice))).isTrue();
        transport.disconnectGuest();

        assertThat(guest.readExactly(notice.length, TIMEOUT)).isEqualTo(notice);
        guest.awaitClosedByPeer(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
    }

    @Test
    void startTwiceIsRejected() {
        transport.start(port);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> transport.start(port))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void describeIsInformative() {
        assertThat(transport.describe()).isNotBlank();
    }

    protected static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
