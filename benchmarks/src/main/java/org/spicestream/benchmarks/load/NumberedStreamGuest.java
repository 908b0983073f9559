package org.spicestream.benchmarks.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.HostStreamParser;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessage;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.testsupport.latency.FrameTimeline;
import org.spicestream.testsupport.media.Bitstreams;
import org.spicestream.testsupport.media.EncodedStream;

/**
 * A guest agent playing a real encoded stream whose frames carry their number in the picture (glass-to-glass):
 * listens on a Unix socket as QEMU's chardev does (the server under test connects), answers CAPABILITIES, and from
 * each START_STOP that offers its codec sends FORMAT and then the frames in a loop at a fixed rate, as an agent that
 * captures and encodes at that rate: when the socket blocks (the server paces it), frames are not caught up, the
 * next one goes when the write returns. The time each frame's write begins goes to {@link #writes()}.
 */
public final class NumberedStreamGuest implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NumberedStreamGuest.class);

    private final EncodedStream stream;
    private final VideoCodec codec;
    private final double fps;
    private final ServerSocketChannel listener;
    private final Path socket;
    private final FrameTimeline writes = new FrameTimeline();
    private final AtomicLong framesSent = new AtomicLong();
    private final Thread sender;
    private volatile SocketChannel channel;
    private volatile boolean closed;
    private volatile boolean streaming;
    private volatile int startEpoch;
    private volatile boolean capabilitiesAsked;
    private volatile boolean trailingAud;

    private NumberedStreamGuest(Path socket, EncodedStream stream, double fps) throws IOException {
        this.socket = socket;
        this.stream = stream;
        this.codec = VideoCodec.valueOf(stream.codec().name());
        this.fps = fps;
        Files.deleteIfExists(socket);
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        sender = new Thread(this::run, "numbered-stream-guest");
        sender.setDaemon(true);
    }

    /** Binds {@code socket} and waits there for the server. */
    public static NumberedStreamGuest start(Path socket, EncodedStream stream, double fps) throws IOException {
        NumberedStreamGuest g = new NumberedStreamGuest(socket, stream, fps);
        g.sender.start();
        return g;
    }

    /**
     * H.264 only: send each access unit without its leading delimiter and with the next unit's delimiter at its
     * end: the experiment of whether a parser that finds access units by their start (GStreamer's h264parse on
     * spice-gtk's unaligned caps) then hands the unit on at once. Measured: it does not (the trailing delimiter is
     * itself incomplete until the next bytes arrive; docs/performance.md, "H.264 through spice-gtk").
     */
    public NumberedStreamGuest trailingAud(boolean on) {
        this.trailingAud = on && codec == VideoCodec.H264;
        return this;
    }

    /** When each frame's write began: frame number (its index in the stream) and {@link System#nanoTime()}. */
    public FrameTimeline writes() {
        return writes;
    }

    public long framesSent() {
        return framesSent.get();
    }

    private void run() {
        try {
            SocketChannel ch = listener.accept();
            channel = ch;
            Thread reader = new Thread(() -> readHost(ch), "numbered-stream-guest-host");
            reader.setDaemon(true);
            reader.start();
            send(ch);
        } catch (IOException e) {
            if (!closed) {
                LOG.warn("guest stopped: {}", e.toString());
            }
        }
    }

    private void send(SocketChannel ch) throws IOException {
        long period = (long) (TimeUnit.SECONDS.toNanos(1) / fps);
        int sentEpoch = 0;
        int index = 0;
        long next = System.nanoTime();
        while (!closed) {
            if (capabilitiesAsked) {
                capabilitiesAsked = false;
                write(ch, Capabilities.of());
            }
            if (!streaming) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                continue;
            }
            if (startEpoch != sentEpoch) {
                sentEpoch = startEpoch;
                write(ch, new Format(stream.width(), stream.height(), codec));
                index = 0; // a new stream starts with a key frame
                next = System.nanoTime();
            }
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            writes.addNow(index);
            write(ch, new Data(Unpooled.wrappedBuffer(trailingAud ? withTrailingAud(stream.frame(index))
                    : stream.frame(index))));
            framesSent.incrementAndGet();
            index = (index + 1) % stream.frameCount();
            long now = System.nanoTime();
            next = now - next > period ? now + period : next + period; // late: no catching up
        }
    }

    /** An H.264 delimiter NAL (any slice types): 4-byte start code, type 9, primary_pic_type 7 + stop bit. */
    private static final byte[] AUD = {0, 0, 0, 1, 0x09, (byte) 0xF0};

    static byte[] withTrailingAud(byte[] accessUnit) {
        int skip = 0;
        var nals = Bitstreams.nals(accessUnit, org.spicestream.testsupport.media.VideoCodec.H264);
        if (!nals.isEmpty() && nals.get(0).type() == Bitstreams.H264_NAL_AUD) {
            skip = nals.size() > 1 ? nals.get(1).start() : accessUnit.length;
        }
        byte[] out = new byte[accessUnit.length - skip + AUD.length];
        System.arraycopy(accessUnit, skip, out, 0, accessUnit.length - skip);
        System.arraycopy(AUD, 0, out, accessUnit.length - skip, AUD.length);
        return out;
    }

    private void write(SocketChannel ch, StreamMessage message) throws IOException {
        ByteBuf bytes = StreamMessages.encode(message, UnpooledByteBufAllocator.DEFAULT);
        try {
            ByteBuffer b = bytes.nioBuffer();
            synchronized (this) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        } finally {
            bytes.release();
        }
    }

    private void readHost(SocketChannel ch) {
        HostStreamParser parser = new HostStreamParser();
        ByteBuffer in = ByteBuffer.allocate(4096);
        try {
            while (!closed && ch.read(in.clear()) >= 0) {
                in.flip();
                parser.parse(Unpooled.wrappedBuffer(in), m -> {
                    if (m instanceof Capabilities) {
                        capabilitiesAsked = true;
                    } else if (m instanceof StartStop s) {
                        if (s.codecs().contains(codec)) {
                            startEpoch++;
                            streaming = true;
                        } else {
                            streaming = false;
                        }
                    }
                });
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.warn("host reader stopped: {}", e.toString());
            }
        }
        streaming = false;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        SocketChannel ch = channel;
        if (ch != null) {
            ch.close();
        }
        try {
            sender.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(socket);
    }
}
