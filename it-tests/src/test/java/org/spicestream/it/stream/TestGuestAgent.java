package org.spicestream.it.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.spicestream.testsupport.latency.FrameTimeline;
import org.spicestream.testsupport.media.EncodedStream;
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
import org.spicestream.protocol.VideoCodec;

/**
 * A guest streaming agent in Java, for tests: connects to the device's unix socket as the guest end of the
 * port, answers CAPABILITIES, and on START_STOP streams the first offered codec it has media for (like the
 * reference agent, it keeps its stream on a new non-empty list and restarts only after a stop).
 */
public final class TestGuestAgent implements AutoCloseable {

    private final Path socket;
    private final Map<org.spicestream.testsupport.media.VideoCodec, EncodedStream> media;
    private final int fps;
    private final List<HostMessage> received = new CopyOnWriteArrayList<>();
    private final List<String> formats = new CopyOnWriteArrayList<>();
    private volatile SocketChannel channel;
    private volatile boolean closed;
    private volatile List<VideoCodec> offered = List.of();
    private volatile boolean restart;
    private volatile int framesSent;
    private volatile boolean sendCursor = true;
    private volatile CursorSet cursorShape = CursorSet.of(2, 2, 1, 1, CursorType.ALPHA, new byte[16]);
    private volatile int[] cursorPosition;
    private final ArrayDeque<FrameWrite> writes = new ArrayDeque<>();
    private volatile FrameTimeline timeline;
    private Thread reader;
    private Thread writer;

    public TestGuestAgent(Path socket, Map<org.spicestream.testsupport.media.VideoCodec, EncodedStream> media, int fps) {
        this.socket = socket;
        this.media = media;
        this.fps = fps;
    }

    /** When a frame's DATA started to go into the port: the frame's index in its stream, wall-clock microseconds. */
    public record FrameWrite(int index, long epochMicros) {}

    /** Frame writes kept for {@link #writes()} (the oldest go first). */
    public static final int MAX_FRAME_WRITES = 100_000;

    /** The cursor shape sent after each FORMAT, and a fixed position for it instead of one moving with the frames. */
    public TestGuestAgent cursor(CursorSet shape, int x, int y) {
        this.cursorShape = shape;
        this.cursorPosition = new int[] {x, y};
        return this;
    }

    /** The last {@link #MAX_FRAME_WRITES} frame writes, oldest first (glass-to-glass: written → shown). */
    public List<FrameWrite> writes() {
        synchronized (writes) {
            return new ArrayList<>(writes);
        }
    }

    /** Records when each frame's write began (frame index in the stream, {@link System#nanoTime()}). */
    public TestGuestAgent recordWrites(FrameTimeline timeline) {
        this.timeline = timeline;
        return this;
    }

    /** Opens the port (connects). */
    public TestGuestAgent open() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        channel = ch;
        offered = List.of();
        reader = new Thread(this::readLoop, "test-guest-reader");
        writer = new Thread(this::writeLoop, "test-guest-writer");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
        return this;
    }

    /** Closes the port, as a guest agent exiting would. */
    void closePort() throws IOException {
        SocketChannel ch = channel;
        channel = null;
        if (ch != null) {
            ch.close();
        }
        join(reader);
        join(writer);
    }

    List<HostMessage> received() {
        return received;
    }

    /** "WxH codec" of every FORMAT sent. */
    public List<String> formats() {
        return formats;
    }

    public int framesSent() {
        return framesSent;
    }

    List<VideoCodec> startStops() {
        List<VideoCodec> last = new ArrayList<>();
        for (HostMessage m : received) {
            if (m instanceof StartStop s) {
                last = s.codecs();
            }
        }
        return last;
    }

    void write(StreamMessage message) throws IOException {
        ByteBuf bytes = StreamMessages.encode(message, ByteBufAllocator.DEFAULT);
        try {
            writeBytes(bytes.nioBuffer());
        } finally {
            bytes.release();
        }
    }

    synchronized void writeBytes(ByteBuffer bytes) throws IOException {
        SocketChannel ch = channel;
        if (ch == null) {
            throw new IOException("port closed");
        }
        while (bytes.hasRemaining()) {
            ch.write(bytes);
        }
    }

    private void readLoop() {
        HostStreamParser parser = new HostStreamParser();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try {
            SocketChannel ch;
            while ((ch = channel) != null && ch.read(buffer.clear()) >= 0) {
                buffer.flip();
                parser.parse(Unpooled.wrappedBuffer(buffer), this::onMessage);
            }
        } catch (IOException | RuntimeException e) {
            // port closed, or the host sent something a guest must reject: stop reading
        }
    }

    private void onMessage(HostMessage m) {
        received.add(m);
        try {
            if (m instanceof Capabilities) {
                write(Capabilities.NONE);
            } else if (m instanceof StartStop s) {
                if (s.isStop()) {
                    offered = List.of();
                } else {
                    if (offered.isEmpty()) {
                        restart = true;
                    }
                    offered = s.codecs();
                }
            } else if (m instanceof NotifyError) {
                closePortQuietly();
            }
        } catch (IOException e) {
            // port closed meanwhile
        }
    }

    private void closePortQuietly() {
        try {
            SocketChannel ch = channel;
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // already closed
        }
    }

    private void writeLoop() {
        long period = TimeUnit.SECONDS.toNanos(1) / fps;
        EncodedStream stream = null;
        int index = 0;
        long next = System.nanoTime();
        try {
            while (channel != null) {
                List<VideoCodec> codecs = offered;
                if (codecs.isEmpty()) {
                    stream = null;
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                    continue;
                }
                if (restart || stream == null) {
                    restart = false;
                    stream = pick(codecs);
                    index = 0;
                    VideoCodec codec = VideoCodec.valueOf(stream.codec().name());
                    write(new Format(stream.width(), stream.height(), codec));
                    formats.add(stream.width() + "x" + stream.height() + " " + codec);
                    if (sendCursor) {
                        write(cursorShape);
                    }
                }
                FrameTimeline timeline = this.timeline;
                if (timeline != null) {
                    timeline.addNow(index);
                }
                Instant at = Instant.now();
                synchronized (writes) {
                    if (writes.size() == MAX_FRAME_WRITES) {
                        writes.removeFirst();
                    }
                    writes.addLast(new FrameWrite(index, at.getEpochSecond() * 1_000_000 + at.getNano() / 1000));
                }
                write(new Data(Unpooled.wrappedBuffer(stream.frame(index))));
                if (sendCursor) {
                    int[] p = cursorPosition;
                    write(p == null ? new CursorMove(index * 3, 100) : new CursorMove(p[0], p[1]));
                }
                framesSent++;
                index = (index + 1) % stream.frameCount();
                next += period;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                } else {
                    next = System.nanoTime();
                }
            }
        } catch (IOException e) {
            // port closed
        }
    }

    private EncodedStream pick(List<VideoCodec> codecs) {
        // The media map's order is this agent's preference.
        for (Map.Entry<org.spicestream.testsupport.media.VideoCodec, EncodedStream> e : media.entrySet()) {
            if (codecs.contains(VideoCodec.valueOf(e.getKey().name()))) {
                return e.getValue();
            }
        }
        throw new IllegalStateException("no media for any of " + codecs);
    }

    private static void join(Thread t) {
        if (t != null) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        closePort();
    }
}
