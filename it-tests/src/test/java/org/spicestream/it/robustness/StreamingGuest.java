package org.spicestream.it.robustness;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.VideoCodec;

/**
 * A guest that streams MJPEG-typed frames (the relay does not decode MJPEG: any bytes are a key frame) at a fixed
 * rate, or as fast as the socket takes them ({@code fps} 0). Each frame starts with its sequence number.
 */
final class StreamingGuest implements AutoCloseable {

    static final int WIDTH = 64;
    static final int HEIGHT = 48;

    private final RawGuest guest;
    private final int frameSize;
    private final int fps;
    private final boolean followStartStop;
    private final AtomicLong framesSent = new AtomicLong();
    private final Thread writer;
    private volatile boolean stop;
    private volatile IOException failure;

    private StreamingGuest(RawGuest guest, int frameSize, int fps, boolean followStartStop) {
        this.guest = guest;
        this.frameSize = Math.max(8, frameSize);
        this.fps = fps;
        this.followStartStop = followStartStop;
        writer = new Thread(this::writeLoop, "streaming-guest");
        writer.setDaemon(true);
    }

    /**
     * Opens the port and starts streaming; {@code waitForStart}: like a real agent, wait for START_STOP before the
     * FORMAT (false: stream at once, as a misbehaving guest with nobody watching would).
     */
    static StreamingGuest start(Path socket, int frameSize, int fps, boolean waitForStart) throws IOException {
        RawGuest g = RawGuest.open(socket, true);
        if (waitForStart) {
            try {
                g.awaitStart(Duration.ofSeconds(10));
            } catch (AssertionError e) {
                g.close();
                throw e;
            }
        }
        StreamingGuest s = new StreamingGuest(g, frameSize, fps, false);
        s.writer.start();
        return s;
    }

    /**
     * Opens the port and behaves like the reference agent: streams only between a START_STOP with codecs and a stop,
     * and starts every such run with a new FORMAT (the relay forgets the stream when its last client leaves, B35).
     */
    static StreamingGuest agent(Path socket, int frameSize, int fps) throws IOException {
        StreamingGuest s = new StreamingGuest(RawGuest.open(socket, true), frameSize, fps, true);
        s.writer.start();
        return s;
    }

    long framesSent() {
        return framesSent.get();
    }

    RawGuest raw() {
        return guest;
    }

    /** The sequence number a frame carries. */
    static long sequence(byte[] payload) {
        return ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private void writeLoop() {
        long period = fps > 0 ? TimeUnit.SECONDS.toNanos(1) / fps : 0;
        long next = System.nanoTime();
        byte[] frame = new byte[frameSize];
        ByteBuffer seq = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        boolean streaming = !followStartStop;
        boolean needFormat = true;
        int seen = 0;
        try {
            while (!stop) {
                if (followStartStop) {
                    List<HostMessage> received = guest.received();
                    while (seen < received.size()) {
                        if (received.get(seen++) instanceof StartStop s) {
                            if (s.isStop()) {
                                streaming = false;
                            } else if (!streaming) {
                                streaming = true;
                                needFormat = true;
                            }
                        }
                    }
                    if (!streaming) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // an idle agent polling its port
                        next = System.nanoTime();
                        continue;
                    }
                }
                if (needFormat) {
                    guest.format(WIDTH, HEIGHT, VideoCodec.MJPEG);
                    needFormat = false;
                }
                seq.putLong(0, framesSent.get());
                guest.frame(frame);
                framesSent.incrementAndGet();
                if (period > 0) {
                    next += period;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    } else {
                        next = System.nanoTime();
                    }
                }
            }
        } catch (IOException e) {
            if (!stop) {
                failure = e;
            }
        }
    }

    /** Stops writing (between frames) and waits for the writer. */
    void stop() {
        stop = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The write error that ended streaming before {@link #stop()}, or null. */
    IOException failure() {
        return failure;
    }

    @Override
    public void close() throws IOException {
        stop = true;
        guest.close(); // unblocks a writer stuck on a paused device
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
