package org.spicestream.distribution.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.time.LocalTime;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.CursorMove;
import org.spicestream.protocol.CursorSet;
import org.spicestream.protocol.CursorType;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.HostStreamParser;
import org.spicestream.protocol.NotifyError;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessage;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.StreamProtocolException;
import org.spicestream.protocol.VideoCodec;

/**
 * An in-process guest agent for the demo: connects to the device's socket as a guest would, answers
 * CAPABILITIES, and while the host wants a stream (START_STOP with MJPEG) sends FORMAT, then a test pattern as
 * MJPEG frames at a fixed rate plus a moving cursor; START_STOP with no codec stops it.
 *
 * <p>Threads: one reads host messages and reconnects; one renders, encodes and writes frames at the frame rate.
 * Nothing queues: when the host does not read, the encoder thread blocks in its write and later ticks are late
 * instead of piling up.
 */
public final class DemoGuest implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DemoGuest.class);

    /** First wait before reconnecting. */
    public static final Duration INITIAL_RECONNECT_DELAY = Duration.ofMillis(50);
    /** Longest wait between reconnect attempts. */
    public static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(1);
    /** Longest wait for the threads on close. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(1);
    /** Cursor size (ALPHA). */
    public static final int CURSOR_SIZE = 32;
    /** Bytes read from the host at once; host messages are tiny. */
    private static final int READ_BUFFER_BYTES = 4096;

    /**
     * @param width frame width in pixels
     * @param height frame height in pixels
     * @param fps frames per second
     * @param quality JPEG quality 0…1
     */
    public record Options(int width, int height, int fps, float quality) {
        public static final Options DEFAULT = new Options(640, 480, 30, 0.8f);

        public Options {
            if (width < 16 || height < 16 || fps < 1 || fps > 240 || quality <= 0 || quality > 1) {
                throw new IllegalArgumentException("invalid demo options " + width + "x" + height + "@" + fps);
            }
        }
    }

    private final SocketAddress target;
    private final Options options;
    private final TestPattern pattern;
    private final JpegEncoder encoder;
    private final CursorSet cursor;
    private final ScheduledExecutorService ticker;
    private final Thread reader;
    private final AtomicLong framesSent = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private volatile Connection connection;
    private volatile boolean closed;
    private long frame;

    public DemoGuest(SocketAddress target, Options options) {
        this.target = target;
        this.options = options;
        this.pattern = new TestPattern(options.width(), options.height());
        this.encoder = new JpegEncoder(options.quality());
        this.cursor = arrowCursor();
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "demo-guest-encoder");
            t.setDaemon(true);
            return t;
        });
        this.reader = new Thread(this::run, "demo-guest");
        this.reader.setDaemon(true);
    }

    public void start() {
        LOG.info("demo guest: {}x{} MJPEG at {} fps, connecting to {}", options.width(), options.height(),
                options.fps(), target);
        reader.start();
        ticker.scheduleAtFixedRate(this::tick, 0, 1_000_000_000L / options.fps(), TimeUnit.NANOSECONDS);
    }

    /** Frames written so far. */
    public long framesSent() {
        return framesSent.get();
    }

    /** Connections made so far. */
    public long connections() {
        return connections.get();
    }

    /** Whether the host currently wants frames. */
    public boolean isStreaming() {
        Connection c = connection;
        return c != null && c.streaming;
    }

    @Override
    public void close() {
        closed = true;
        ticker.shutdownNow();
        Connection c = connection;
        if (c != null) {
            c.close();
        }
        reader.interrupt();
        try {
            reader.join(CLOSE_TIMEOUT.toMillis());
            ticker.awaitTermination(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        encoder.close();
        LOG.info("demo guest: stopped after {} frames", framesSent.get());
    }

    // ---- reader thread: connect, read, reconnect ----

    private void run() {
        long delay = INITIAL_RECONNECT_DELAY.toMillis();
        boolean reportedFailure = false;
        while (!closed) {
            try (SocketChannel ch = SocketChannel.open(target)) {
                Connection c = new Connection(ch);
                connection = c;
                connections.incrementAndGet();
                LOG.info("demo guest: port opened ({})", target);
                delay = INITIAL_RECONNECT_DELAY.toMillis();
                reportedFailure = false;
                c.readLoop();
                if (!closed) {
                    LOG.info("demo guest: the host closed the port");
                }
            } catch (IOException | StreamProtocolException e) {
                if (closed) {
                    break;
                }
                if (!reportedFailure) {
                    LOG.info("demo guest: {} ({}); retrying", e.getMessage(), target);
                    reportedFailure = true;
                } else {
                    LOG.debug("demo guest: {}", e.toString());
                }
            } finally {
                connection = null;
            }
            if (closed) {
                break;
            }
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                break;
            }
            delay = Math.min(delay * 2, MAX_RECONNECT_DELAY.toMillis());
        }
    }

    // ---- encoder thread ----

    private void tick() {
        Connection c = connection;
        if (c == null || !c.streaming || closed) {
            return;
        }
        try {
            if (c.needFormat) {
                c.needFormat = false;
                c.send(new Format(options.width(), options.height(), VideoCodec.MJPEG));
                c.send(cursor);
                LOG.info("demo guest: streaming {}x{} MJPEG", options.width(), options.height());
            }
            long n = frame++;
            byte[] jpeg = encoder.encode(pattern.render(n, LocalTime.now()));
            Data data = new Data(Unpooled.wrappedBuffer(jpeg));
            try {
                c.send(data);
            } finally {
                data.release();
            }
            int w = options.width() - CURSOR_SIZE;
            int h = options.height() - CURSOR_SIZE;
            c.send(new CursorMove((int) (w / 2.0 * (1 + Math.sin(n * 0.031))),
                    (int) (h / 2.0 * (1 + Math.sin(n * 0.047)))));
            framesSent.incrementAndGet();
        } catch (IOException e) {
            if (!closed) {
                LOG.debug("demo guest: write failed: {}", e.toString());
            }
            c.close();
        } catch (RuntimeException e) {
            // a failed tick must not cancel the schedule
            LOG.warn("demo guest: frame {} failed: {}", frame, e.toString());
        }
    }

    /** A white arrow with a black outline, 32x32 ALPHA (B, G, R, A per pixel), hot spot at the tip. */
    static CursorSet arrowCursor() {
        BufferedImage img = new BufferedImage(CURSOR_SIZE, CURSOR_SIZE, BufferedImage.TYPE_INT_ARGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            Polygon arrow = new Polygon(new int[] {1, 1, 8, 13, 17, 12, 21}, new int[] {1, 24, 18, 29, 27, 16, 16}, 7);
            g.setColor(Color.WHITE);
            g.fill(arrow);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f));
            g.draw(arrow);
        } finally {
            g.dispose();
        }
        byte[] pixels = new byte[CURSOR_SIZE * CURSOR_SIZE * 4];
        int i = 0;
        for (int y = 0; y < CURSOR_SIZE; y++) {
            for (int x = 0; x < CURSOR_SIZE; x++) {
                int argb = img.getRGB(x, y);
                pixels[i++] = (byte) argb; // B
                pixels[i++] = (byte) (argb >> 8); // G
                pixels[i++] = (byte) (argb >> 16); // R
                pixels[i++] = (byte) (argb >>> 24); // A
            }
        }
        return CursorSet.of(CURSOR_SIZE, CURSOR_SIZE, 1, 1, CursorType.ALPHA, pixels);
    }

    /** One guest connection ("port open" as the host sees it). */
    private final class Connection {
        final SocketChannel ch;
        final HostStreamParser parser = new HostStreamParser();
        final Object writeLock = new Object();
        volatile boolean needFormat;
        volatile boolean streaming;

        Connection(SocketChannel ch) {
            this.ch = ch;
        }

        void readLoop() throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(READ_BUFFER_BYTES);
            while (!closed) {
                buf.clear();
                if (ch.read(buf) < 0) {
                    return;
                }
                buf.flip();
                // a fresh buffer per read: the parser may keep slices of its input until a message completes
                ByteBuf in = Unpooled.buffer(buf.remaining()).writeBytes(buf);
                try {
                    parser.parse(in, this::onHost);
                } finally {
                    in.release();
                }
            }
        }

        private void onHost(HostMessage m) {
            try {
                if (m instanceof Capabilities caps) {
                    LOG.debug("demo guest: host capabilities {}", caps);
                    send(Capabilities.of()); // no optional capability
                } else if (m instanceof StartStop s) {
                    if (s.isStop()) {
                        streaming = false;
                        LOG.info("demo guest: host says stop");
                    } else if (s.codecs().contains(VideoCodec.MJPEG)) {
                        if (!streaming) {
                            needFormat = true; // before streaming: the encoder checks streaming first
                            streaming = true;
                        }
                        LOG.info("demo guest: host says start with {}", s.codecs());
                    } else {
                        streaming = false;
                        LOG.warn("demo guest: host offers {} but the demo only encodes MJPEG", s.codecs());
                    }
                } else if (m instanceof NotifyError e) {
                    LOG.warn("demo guest: host reports error {}: {}", e.errorCode(), e.text());
                }
            } catch (IOException e) {
                close();
            }
        }

        void send(StreamMessage m) throws IOException {
            ByteBuf bytes = StreamMessages.encode(m, UnpooledByteBufAllocator.DEFAULT);
            try {
                synchronized (writeLock) {
                    for (ByteBuffer b : bytes.nioBuffers()) {
                        while (b.hasRemaining()) {
                            ch.write(b);
                        }
                    }
                }
            } finally {
                bytes.release();
            }
        }

        void close() {
            streaming = false;
            try {
                ch.close();
            } catch (IOException e) {
                LOG.debug("demo guest: close: {}", e.toString());
            }
        }
    }
}
