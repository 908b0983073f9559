package org.spicestream.benchmarks.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.HostStreamParser;
import org.spicestream.protocol.MessageType;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.protocol.StreamMessage;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.VideoCodec;

/**
 * A guest stream agent under load: listens on a Unix socket as QEMU's chardev does (the server under test
 * connects), answers CAPABILITIES, waits for START_STOP with at least one codec, then sends FORMAT (MJPEG) and DATA
 * frames of a fixed size at a fixed rate or as fast as the socket accepts them, until its time is up.
 *
 * <p>Each DATA payload starts with a {@link System#nanoTime()} stamp (8 bytes, little endian: when the frame was
 * due at a fixed rate, when it was written at the maximum rate) and a sequence number (4
 * bytes, little endian, from 0); the rest is filler from one preallocated buffer, written with a gathering write,
 * so that no frame byte is touched per frame. One sending thread and one thread reading the host's messages.
 */
public final class GuestLoadGenerator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GuestLoadGenerator.class);

    /** Bytes at the start of every DATA payload: timestamp (8) and sequence number (4). */
    public static final int STAMP_SIZE = 12;
    /** Smallest frame the generator sends: the stamp. */
    public static final int MIN_FRAME_SIZE = STAMP_SIZE;
    /** Stream size announced in FORMAT. */
    public static final int WIDTH = 1920;
    public static final int HEIGHT = 1080;
    /** Size of the buffer the host → guest reader uses (host messages are a few bytes). */
    static final int HOST_READ_BUFFER = 4096;
    /** Value of every filler byte. */
    static final byte FILLER = (byte) 0xA5;
    /** How long {@link #close()} waits for the threads. */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);
    /** Longest park while waiting for START_STOP, so that close and the deadline are noticed. */
    static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /**
     * What to send.
     *
     * @param socket the Unix socket to listen on (a stale file is removed)
     * @param frameSize DATA payload size in bytes, at least {@link #MIN_FRAME_SIZE}
     * @param fps frames per second; 0 = as fast as the socket accepts them
     * @param duration how long to send after the first START_STOP
     * @param waitForStart false: send DATA from the moment the server connects, without FORMAT, whatever the host
     *     says (a guest the host cannot stop, for the no-client scenario)
     * @param burst send as fast as possible for this long after the first START_STOP, then at {@code fps}: warms up
     *     the JIT of the process under test before a low-rate measurement
     */
    public record Options(Path socket, int frameSize, double fps, Duration duration, boolean waitForStart,
            Duration burst) {
        public Options(Path socket, int frameSize, double fps, Duration duration, boolean waitForStart) {
            this(socket, frameSize, fps, duration, waitForStart, Duration.ZERO);
        }

        public Options {
            if (frameSize < MIN_FRAME_SIZE || frameSize > StreamLimits.DATA_MAX_BYTES) {
                throw new IllegalArgumentException("frame size " + frameSize + " outside " + MIN_FRAME_SIZE + "…"
                        + StreamLimits.DATA_MAX_BYTES);
            }
            if (fps < 0) {
                throw new IllegalArgumentException("negative fps");
            }
        }
    }

    private final Options options;
    private final ServerSocketChannel listener;
    private final ByteBuffer header = ByteBuffer.allocateDirect(StreamLimits.HEADER_SIZE + STAMP_SIZE)
            .order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer filler;
    private final ByteBuffer[] gather;
    private final AtomicLong framesSent = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final Thread sender;
    private volatile Thread hostReader;
    private volatile SocketChannel guest;
    private volatile boolean closed;
    /** Incremented on every START_STOP with codecs; the sender sends FORMAT when it changes. */
    private volatile int startEpoch;
    private volatile boolean streaming;
    private volatile boolean capabilitiesAsked;
    private volatile boolean finished;
    private volatile long firstStartNanos;

    private GuestLoadGenerator(Options options) throws IOException {
        this.options = options;
        Files.deleteIfExists(options.socket());
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(options.socket()));
        filler = ByteBuffer.allocateDirect(options.frameSize() - STAMP_SIZE);
        while (filler.hasRemaining()) {
            filler.put(FILLER);
        }
        gather = new ByteBuffer[] {header, filler};
        sender = new Thread(this::run, "guest-load-generator");
        sender.setDaemon(true);
    }

    /** Binds the socket (so the server may connect at once) and starts the sending thread. */
    public static GuestLoadGenerator start(Options options) throws IOException {
        GuestLoadGenerator g = new GuestLoadGenerator(options);
        g.sender.start();
        return g;
    }

    public Options options() {
        return options;
    }

    /** DATA frames written completely so far. */
    public long framesSent() {
        return framesSent.get();
    }

    /** DATA bytes (headers included) written so far. */
    public long bytesSent() {
        return bytesSent.get();
    }

    /** Whether the host asked for the stream (last START_STOP had a codec). */
    public boolean streaming() {
        return streaming;
    }

    /** Whether the sending time is over (or the connection failed). */
    public boolean finished() {
        return finished;
    }

    private void run() {
        try {
            SocketChannel ch = listener.accept();
            guest = ch;
            LOG.info("server connected to {}", options.socket());
            Thread reader = new Thread(() -> readHost(ch), "guest-load-host-reader");
            reader.setDaemon(true);
            hostReader = reader;
            reader.start();
            send(ch);
        } catch (IOException e) {
            if (!closed) {
                LOG.warn("generator stopped: {}", e.toString());
            }
        } finally {
            finished = true;
        }
    }

    private void send(SocketChannel ch) throws IOException {
        long period = options.fps() > 0 ? (long) (TimeUnit.SECONDS.toNanos(1) / options.fps()) : 0;
        int sentEpoch = 0;
        int seq = 0;
        long deadline = Long.MAX_VALUE;
        long burstEnd = Long.MAX_VALUE;
        long next = 0;
        boolean paced = false;
        if (!options.waitForStart()) {
            firstStartNanos = System.nanoTime();
            deadline = firstStartNanos + options.duration().toNanos();
            burstEnd = firstStartNanos + options.burst().toNanos();
        }
        while (!closed) {
            if (capabilitiesAsked) {
                capabilitiesAsked = false;
                writeMessage(ch, Capabilities.of());
            }
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                LOG.info("sending time over: {} frames sent", framesSent.get());
                return;
            }
            if (options.waitForStart()) {
                if (!streaming) {
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    continue;
                }
                int epoch = startEpoch;
                if (epoch != sentEpoch) {
                    sentEpoch = epoch;
                    writeMessage(ch, new Format(WIDTH, HEIGHT, VideoCodec.MJPEG));
                    if (deadline == Long.MAX_VALUE) {
                        firstStartNanos = now;
                        deadline = now + options.duration().toNanos();
                        burstEnd = now + options.burst().toNanos();
                    }
                    next = now;
                    paced = false;
                }
            }
            long stamp = now;
            if (period > 0 && now - burstEnd >= 0) {
                if (!paced) {
                    paced = true;
                    next = now; // the schedule starts when the burst ends
                }
                long wait = next - now;
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                // The frame carries the time it was due, not the time it left: when the socket blocked the
                // generator (the path pushed back), the wait counts as latency instead of being hidden
                // (coordinated omission). More than a period late: the missed slots are skipped, not caught up
                // with a burst; the readers' histograms are corrected for the skipped slots.
                stamp = next;
                next = -wait > period ? now + period : next + period;
            }
            writeFrame(ch, seq++, stamp);
        }
    }

    private void writeFrame(SocketChannel ch, int seq, long stamp) throws IOException {
        header.clear();
        header.put((byte) StreamLimits.PROTOCOL_VERSION).put((byte) 0).putShort((short) MessageType.DATA)
                .putInt(options.frameSize());
        header.putLong(stamp).putInt(seq);
        header.flip();
        filler.clear();
        long n = 0;
        while (filler.hasRemaining()) {
            n += ch.write(gather);
        }
        bytesSent.addAndGet(n);
        framesSent.incrementAndGet();
    }

    private void writeMessage(SocketChannel ch, StreamMessage message) throws IOException {
        ByteBuf bytes = StreamMessages.encode(message, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
        try {
            ByteBuffer b = bytes.nioBuffer();
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } finally {
            bytes.release();
        }
    }

    private void readHost(SocketChannel ch) {
        HostStreamParser parser = new HostStreamParser();
        ByteBuffer in = ByteBuffer.allocate(HOST_READ_BUFFER);
        try {
            while (!closed) {
                in.clear();
                int n = ch.read(in);
                if (n < 0) {
                    LOG.info("server closed the guest connection");
                    streaming = false;
                    return;
                }
                in.flip();
                ByteBuf buf = Unpooled.wrappedBuffer(in);
                parser.parse(buf, m -> {
                    if (m instanceof Capabilities) {
                        capabilitiesAsked = true; // answered by the sender: only it writes, so messages never interleave
                    } else if (m instanceof StartStop s) {
                        LOG.info("host START_STOP {}", s.codecs());
                        if (s.isStop()) {
                            streaming = false;
                        } else {
                            startEpoch++;
                            streaming = true;
                        }
                    }
                });
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.warn("host reader stopped: {}", e.toString());
            }
        }
    }


    /** Nanos (System.nanoTime) when sending started, 0 before. */
    public long firstStartNanos() {
        return firstStartNanos;
    }

    /** Stops sending and closes the socket. */
    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        SocketChannel ch = guest;
        if (ch != null) {
            ch.close();
        }
        try {
            sender.join(JOIN_TIMEOUT.toMillis());
            Thread reader = hostReader;
            if (reader != null) {
                reader.join(JOIN_TIMEOUT.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(options.socket());
    }
}
