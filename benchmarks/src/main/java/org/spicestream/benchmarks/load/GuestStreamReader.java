package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.spicestream.protocol.MessageType;
import org.spicestream.protocol.StreamLimits;

/**
 * The raw relay's readers: TCP connections that carry the guest stream unchanged; per DATA message they record the
 * latency of the generator's stamp and sequence gaps, exactly as {@link SpiceLoadClient} does for STREAM_DATA.
 */
public final class GuestStreamReader implements AutoCloseable {

    /** Read buffer per connection, as the SPICE load client's display connections. */
    static final int READ_BUFFER = SpiceLoadClient.DISPLAY_READ_BUFFER;

    private final Reactor reactor;
    private final List<SocketChannel> sockets = new ArrayList<>();
    private final List<FrameStats> stats = new ArrayList<>();

    private GuestStreamReader(Reactor reactor) {
        this.reactor = reactor;
    }

    /** Connects {@code readers} readers to the relay at {@code relay}. */
    public static GuestStreamReader connect(InetSocketAddress relay, int readers) throws IOException {
        GuestStreamReader r = new GuestStreamReader(new Reactor("guest-stream-reader"));
        try {
            for (int i = 0; i < readers; i++) {
                SocketChannel ch = SocketChannel.open(relay);
                r.sockets.add(ch);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                FrameStats s = new FrameStats("reader-" + i);
                r.stats.add(s);
                r.reactor.register(new Connection(ch, s));
            }
        } catch (IOException | RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    public List<FrameStats> stats() {
        return List.copyOf(stats);
    }

    @Override
    public void close() throws IOException {
        for (SocketChannel ch : sockets) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing all
            }
        }
        reactor.close();
    }

    static final class Connection extends ReaderConnection {
        Connection(SocketChannel ch, FrameStats stats) {
            super(ch, READ_BUFFER, stats, 0);
        }

        @Override
        int headerSize() {
            return StreamLimits.HEADER_SIZE;
        }

        @Override
        long headerTypeAndSize(ByteBuffer in, int at) {
            // version (1), padding (1), type (u16), size (u32), little endian
            return (long) (in.getShort(at + 2) & 0xffff) << 32 | (in.getInt(at + 4) & 0xffffffffL);
        }

        @Override
        int frameHeadSize(int type) {
            return type == MessageType.DATA ? 0 : -1;
        }

        @Override
        void onControl(int type, ByteBuffer body) {
            // CAPABILITIES, FORMAT: nothing to do
        }
    }
}
