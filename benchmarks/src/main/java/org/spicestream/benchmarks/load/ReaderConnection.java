package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reading connection of the load tools: a length-prefixed message stream in which frame messages carry the
 * generator's stamp. Only headers, the stamp and small control bodies are looked at; frame bytes are read into one
 * reused buffer and skipped (no per-byte work). Subclasses define the header and control messages.
 *
 * <p>Confined to one thread: the caller's while linking (blocking), then the {@link Reactor}'s.
 */
abstract class ReaderConnection {

    private static final Logger LOG = LoggerFactory.getLogger(ReaderConnection.class);

    /** Largest non-frame message body that is buffered and handed to {@link #onControl}; larger ones are skipped. */
    static final int MAX_CONTROL_BODY = 64 * 1024;
    /** Capacity of the small buffer of pending outgoing control messages. */
    static final int OUT_BUFFER = 64 * 1024;

    private enum State { HEADER, BODY, FRAME_HEAD, SKIP_FRAME, SKIP }

    protected final SocketChannel ch;
    protected final ByteBuffer in;
    protected final FrameStats stats;
    private final ByteBuffer out = ByteBuffer.allocate(OUT_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
    private final long pauseNanos;
    SelectionKey key;

    private State state = State.HEADER;
    private int type;
    private int size;
    private long remaining;
    private int frameSeq;
    private long frameStamp;
    private long resumeAt;
    private boolean paused;
    private volatile Throwable failure;

    /**
     * @param readBuffer bytes one read may fill (at least {@link #MAX_CONTROL_BODY} + header)
     * @param pauseNanos after each complete frame, stop reading for this long (0: read as fast as possible)
     */
    ReaderConnection(SocketChannel ch, int readBuffer, FrameStats stats, long pauseNanos) {
        this.ch = ch;
        this.in = ByteBuffer.allocateDirect(readBuffer).order(ByteOrder.LITTLE_ENDIAN);
        this.in.flip(); // empty, in read mode
        this.stats = stats;
        this.pauseNanos = pauseNanos;
    }

    /** Bytes of the message header. */
    abstract int headerSize();

    /** Reads type and size from the header at {@code in.position()}; returns {type, size}. */
    abstract long headerTypeAndSize(ByteBuffer in, int at);

    /** Bytes of the message body before the generator's stamp, or -1 if messages of this type are no frames. */
    abstract int frameHeadSize(int type);

    /** A complete non-frame message; {@code body} is positioned on it (read-only use). */
    abstract void onControl(int type, ByteBuffer body) throws IOException;

    /** After every complete message (frame or not). */
    void onMessageDone() throws IOException {}

    SocketChannel channel() {
        return ch;
    }

    FrameStats stats() {
        return stats;
    }

    long resumeAt() {
        return resumeAt;
    }

    boolean isPaused() {
        return paused;
    }

    Throwable failure() {
        return failure;
    }

    void resumed() {
        paused = false;
        if (key != null && key.isValid()) {
            key.interestOps(key.interestOps() | SelectionKey.OP_READ);
        }
    }

    void failed(Throwable e) {
        failure = e;
        LOG.debug("{}: connection failed: {}", stats.name(), e.toString());
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** One read (non-blocking on the reactor, blocking while linking) and the messages it completes. */
    final void readAndProcess() throws IOException {
        in.compact();
        int n = ch.read(in);
        in.flip();
        if (n < 0) {
            throw new IOException("closed by peer");
        }
        process();
    }

    /** Handles the buffered bytes until a message is incomplete or the connection paused itself. */
    final void process() throws IOException {
        while (!paused) {
            switch (state) {
                case HEADER -> {
                    if (in.remaining() < headerSize()) {
                        return;
                    }
                    long ts = headerTypeAndSize(in, in.position());
                    in.position(in.position() + headerSize());
                    type = (int) (ts >>> 32);
                    size = (int) ts;
                    int head = frameHeadSize(type);
                    if (head >= 0 && size >= head + GuestLoadGenerator.STAMP_SIZE) {
                        state = State.FRAME_HEAD;
                    } else if (size <= MAX_CONTROL_BODY) {
                        state = State.BODY;
                    } else {
                        state = State.SKIP;
                        remaining = Integer.toUnsignedLong(size);
                    }
                }
                case BODY -> {
                    if (in.remaining() < size) {
                        return;
                    }
                    int end = in.position() + size;
                    ByteBuffer body = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                    body.limit(end);
                    in.position(end);
                    state = State.HEADER;
                    onControl(type, body);
                    onMessageDone();
                }
                case FRAME_HEAD -> {
                    int head = frameHeadSize(type);
                    if (in.remaining() < head + GuestLoadGenerator.STAMP_SIZE) {
                        return;
                    }
                    int at = in.position() + head;
                    frameStamp = in.getLong(at);
                    frameSeq = in.getInt(at + 8);
                    in.position(at + GuestLoadGenerator.STAMP_SIZE);
                    remaining = size - head - GuestLoadGenerator.STAMP_SIZE;
                    state = State.SKIP_FRAME;
                }
                case SKIP_FRAME, SKIP -> {
                    int n = (int) Math.min(remaining, in.remaining());
                    in.position(in.position() + n);
                    remaining -= n;
                    if (remaining > 0) {
                        return;
                    }
                    boolean frame = state == State.SKIP_FRAME;
                    state = State.HEADER;
                    if (frame) {
                        long now = System.nanoTime();
                        stats.frame(frameSeq, now - frameStamp, size - frameHeadSize(type));
                        onMessageDone();
                        if (pauseNanos > 0) {
                            pause(now + pauseNanos);
                        }
                    } else {
                        onMessageDone();
                    }
                }
            }
        }
    }

    private void pause(long until) {
        paused = true;
        resumeAt = until;
        if (key != null && key.isValid()) {
            key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
        }
    }

    /** Queues a small message (already framed by the caller into {@code bytes}) and writes what the socket takes. */
    final void write(ByteBuffer bytes) throws IOException {
        if (out.remaining() < bytes.remaining()) {
            throw new IOException("outgoing control buffer full (" + OUT_BUFFER + " bytes): peer not reading");
        }
        out.put(bytes);
        flushOut();
    }

    final void flushOut() throws IOException {
        out.flip();
        while (out.hasRemaining()) {
            if (ch.write(out) == 0) {
                break; // non-blocking and full: wait for OP_WRITE
            }
        }
        boolean more = out.hasRemaining();
        out.compact();
        if (key != null && key.isValid()) {
            int ops = key.interestOps();
            key.interestOps(more ? ops | SelectionKey.OP_WRITE : ops & ~SelectionKey.OP_WRITE);
        }
    }
}
