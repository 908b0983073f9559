package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protocol-level SPICE load clients: each links a main channel and display channel 0 into its own session
 * (server policy {@code share}), without ticketing (the ticket is the RSA-OAEP encryption of an empty password),
 * answers SET_ACK / ACK windows and PINGs, and records per STREAM_DATA (123) or STREAM_DATA_SIZED (316) the latency
 * of the generator's stamp and sequence gaps in a {@link FrameStats}. All connections of one instance are read by
 * one selector thread; frame bytes are skipped, never inspected.
 */
public final class SpiceLoadClient implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpiceLoadClient.class);

    // link stage (spice-wire §3)
    static final int LINK_MAGIC = 0x51444552; // "REDQ"
    static final int VERSION_MAJOR = 2;
    static final int VERSION_MINOR = 2;
    static final int LINK_HEADER_SIZE = 16;
    static final int LINK_MESS_SIZE = 18;
    static final int PUB_KEY_OFFSET = 4;
    static final int PUB_KEY_SIZE = 162;
    static final int REPLY_CAPS_COUNTS_OFFSET = 166;
    static final int AUTH_MECHANISM_SPICE = 1;
    static final String TICKET_TRANSFORMATION = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding";
    /** Largest link reply accepted. */
    static final int MAX_LINK_REPLY = 4096;
    static final int COMMON_CAP_AUTH_SELECTION = 0;
    static final int COMMON_CAP_AUTH_SPICE = 1;
    static final int COMMON_CAP_MINI_HEADER = 3;

    // channels and messages
    static final int CHANNEL_MAIN = 1;
    static final int CHANNEL_DISPLAY = 2;
    static final int MINI_HEADER_SIZE = 6;
    static final int MSG_SET_ACK = 3;
    static final int MSG_PING = 4;
    static final int MSG_MAIN_INIT = 103;
    static final int MSG_STREAM_DATA = 123;
    static final int MSG_STREAM_DATA_SIZED = 316;
    static final int STREAM_DATA_HEAD = 12;
    static final int STREAM_DATA_SIZED_HEAD = 36;
    static final int MSGC_ACK_SYNC = 1;
    static final int MSGC_ACK = 2;
    static final int MSGC_PONG = 3;
    static final int PONG_BODY = 12;

    // display capabilities announced: SIZED_STREAM (0), MULTI_CODEC (8), MJPEG (9)
    static final int DISPLAY_CAP_SIZED_STREAM = 0;
    static final int DISPLAY_CAP_MULTI_CODEC = 8;
    static final int DISPLAY_CAP_CODEC_MJPEG = 9;

    /** Read buffer of a display connection: one read takes up to this much. */
    static final int DISPLAY_READ_BUFFER = 256 * 1024;
    /** Read buffer of a main connection. */
    static final int MAIN_READ_BUFFER = ReaderConnection.MAX_CONTROL_BODY + 1024;
    /** Longest wait for the link stage and MAIN_INIT. */
    static final Duration LINK_TIMEOUT = Duration.ofSeconds(10);

    /**
     * @param server the SPICE address
     * @param clients number of clients (sessions)
     * @param slowClients how many of them (the first ones) read slowly
     * @param slowFps frames per second a slow client reads
     * @param sized announce SIZED_STREAM (the server then sends STREAM_DATA_SIZED, as to spice-gtk)
     */
    public record Options(InetSocketAddress server, int clients, int slowClients, double slowFps, boolean sized,
            List<String> connectHosts) {
        /** Every client links directly (no HTTP CONNECT). */
        public Options(InetSocketAddress server, int clients, int slowClients, double slowFps, boolean sized) {
            this(server, clients, slowClients, slowFps, sized, null);
        }

        public Options {
            if (connectHosts != null && connectHosts.size() != clients) {
                throw new IllegalArgumentException("one CONNECT host per client");
            }
            if (clients < 1 || slowClients < 0 || slowClients > clients) {
                throw new IllegalArgumentException("bad client counts " + clients + " / " + slowClients);
            }
            if (slowClients > 0 && slowFps <= 0) {
                throw new IllegalArgumentException("slow clients need a positive rate");
            }
        }
    }

    private final Reactor reactor;
    private final List<SocketChannel> sockets = new ArrayList<>();
    private final List<FrameStats> stats = new ArrayList<>();
    private final List<SpiceConnection> displays = new ArrayList<>();

    private SpiceLoadClient(Reactor reactor) {
        this.reactor = reactor;
    }

    /** Connects and links every client (sequentially), then reads them all on one thread. */
    public static SpiceLoadClient connect(Options o) throws IOException {
        SpiceLoadClient c = new SpiceLoadClient(new Reactor("spice-load-client"));
        try {
            for (int i = 0; i < o.clients(); i++) {
                boolean slow = i < o.slowClients();
                c.connectOne(o, (slow ? "slow-" : "client-") + i, slow ? (long) (TimeUnit.SECONDS.toNanos(1) / o.slowFps()) : 0,
                        o.connectHosts() == null ? null : o.connectHosts().get(i));
            }
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void connectOne(Options o, String name, long pauseNanos, String connectHost) throws IOException {
        SocketChannel main = open(o.server(), connectHost);
        link(main, 0, CHANNEL_MAIN, new int[0]);
        SpiceConnection mainConn = new SpiceConnection(main, MAIN_READ_BUFFER, new FrameStats(name + "-main"), 0);
        long deadline = System.nanoTime() + LINK_TIMEOUT.toNanos();
        while (mainConn.sessionId == 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new IOException(name + ": no MAIN_INIT");
            }
            mainConn.readAndProcess();
        }
        SocketChannel display = open(o.server(), connectHost);
        int[] caps = o.sized()
                ? new int[] {DISPLAY_CAP_SIZED_STREAM, DISPLAY_CAP_MULTI_CODEC, DISPLAY_CAP_CODEC_MJPEG}
                : new int[] {DISPLAY_CAP_MULTI_CODEC, DISPLAY_CAP_CODEC_MJPEG};
        link(display, mainConn.sessionId, CHANNEL_DISPLAY, caps);
        FrameStats s = new FrameStats(name);
        SpiceConnection displayConn = new SpiceConnection(display, DISPLAY_READ_BUFFER, s, pauseNanos);
        stats.add(s);
        displays.add(displayConn);
        reactor.register(mainConn);
        reactor.register(displayConn);
        LOG.debug("{}: linked (session {})", name, Integer.toHexString(mainConn.sessionId));
    }

    /** Connects; with {@code connectHost}, through {@code CONNECT host:5900} first (a shared port's routing). */
    private SocketChannel open(InetSocketAddress server, String connectHost) throws IOException {
        SocketChannel ch = SocketChannel.open(server);
        sockets.add(ch);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (connectHost != null) {
            writeFully(ch, ByteBuffer.wrap(("CONNECT " + connectHost + ":5900 HTTP/1.0\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            StringBuilder head = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (!head.toString().endsWith("\r\n\r\n")) {
                one.clear();
                if (ch.read(one) < 0 || head.length() > MAX_LINK_REPLY) {
                    throw new IOException("CONNECT " + connectHost + ": no answer");
                }
                head.append((char) one.get(0));
            }
            if (!head.toString().matches("(?s)HTTP/1\\.[01] 200 .*")) {
                throw new IOException("CONNECT " + connectHost + ": " + head.toString().lines().findFirst().orElse(""));
            }
        }
        return ch;
    }

    /** The link stage on a blocking channel: link message, reply, ticket, result (spice-wire §3). */
    static void link(SocketChannel ch, int connectionId, int channelType, int[] channelCaps) throws IOException {
        int[] common = words(COMMON_CAP_AUTH_SELECTION, COMMON_CAP_AUTH_SPICE, COMMON_CAP_MINI_HEADER);
        int[] channel = words(channelCaps);
        int size = LINK_MESS_SIZE + 4 * (common.length + channel.length);
        ByteBuffer b = le(LINK_HEADER_SIZE + size);
        b.putInt(LINK_MAGIC).putInt(VERSION_MAJOR).putInt(VERSION_MINOR).putInt(size);
        b.putInt(connectionId).put((byte) channelType).put((byte) 0);
        b.putInt(common.length).putInt(channel.length).putInt(LINK_MESS_SIZE);
        for (int w : common) {
            b.putInt(w);
        }
        for (int w : channel) {
            b.putInt(w);
        }
        writeFully(ch, b.flip());
        ByteBuffer header = readFully(ch, LINK_HEADER_SIZE);
        if (header.getInt(0) != LINK_MAGIC) {
            throw new IOException("bad link reply magic");
        }
        int replySize = header.getInt(12);
        if (replySize < 4 || replySize > MAX_LINK_REPLY) {
            throw new IOException("link reply of " + replySize + " bytes");
        }
        ByteBuffer reply = readFully(ch, replySize);
        int error = reply.getInt(0);
        if (error != 0) {
            throw new IOException("link error " + error);
        }
        byte[] key = new byte[PUB_KEY_SIZE];
        reply.get(PUB_KEY_OFFSET, key);
        int numCommon = reply.getInt(REPLY_CAPS_COUNTS_OFFSET);
        int capsOffset = reply.getInt(REPLY_CAPS_COUNTS_OFFSET + 8);
        int serverCommon = numCommon > 0 ? reply.getInt(capsOffset) : 0;
        if ((serverCommon & (1 << COMMON_CAP_MINI_HEADER)) == 0) {
            throw new IOException("server does not offer the mini header");
        }
        byte[] ticket = ticket(key);
        boolean selection = (serverCommon & (1 << COMMON_CAP_AUTH_SELECTION)) != 0;
        ByteBuffer auth = le(4 + ticket.length);
        if (selection) {
            auth.putInt(AUTH_MECHANISM_SPICE);
        }
        auth.put(ticket);
        writeFully(ch, auth.flip());
        int result = readFully(ch, 4).getInt(0);
        if (result != 0) {
            throw new IOException("link result " + result);
        }
    }

    /** RSA-OAEP (SHA-1) encryption of the empty password plus its NUL, as a client without ticketing sends. */
    static byte[] ticket(byte[] publicKey) throws IOException {
        try {
            PublicKey pk = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(publicKey));
            Cipher cipher = Cipher.getInstance(TICKET_TRANSFORMATION);
            cipher.init(Cipher.ENCRYPT_MODE, pk);
            return cipher.doFinal(new byte[1]);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot encrypt the ticket", e);
        }
    }

    static int[] words(int... caps) {
        int max = -1;
        for (int c : caps) {
            max = Math.max(max, c);
        }
        int[] w = new int[max < 0 ? 0 : max / 32 + 1];
        for (int c : caps) {
            w[c / 32] |= 1 << (c % 32);
        }
        return w;
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = le(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("closed during the link stage");
            }
        }
        return b.flip();
    }

    /** Per-client stats of the display connections, in client order (slow clients first). */
    public List<FrameStats> stats() {
        return List.copyOf(stats);
    }

    /** A connection that failed, or null. */
    public Throwable firstFailure() {
        for (SpiceConnection c : displays) {
            if (c.failure() != null) {
                return c.failure();
            }
        }
        return null;
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

    /** One main or display connection after the link: mini headers, ACK window, PONGs. */
    static final class SpiceConnection extends ReaderConnection {
        private final ByteBuffer reply = ByteBuffer.allocate(MINI_HEADER_SIZE + PONG_BODY).order(ByteOrder.LITTLE_ENDIAN);
        volatile int sessionId;
        private int ackWindow;
        private int sinceAck;

        SpiceConnection(SocketChannel ch, int readBuffer, FrameStats stats, long pauseNanos) {
            super(ch, readBuffer, stats, pauseNanos);
        }

        @Override
        int headerSize() {
            return MINI_HEADER_SIZE;
        }

        @Override
        long headerTypeAndSize(ByteBuffer in, int at) {
            return (long) (in.getShort(at) & 0xffff) << 32 | (in.getInt(at + 2) & 0xffffffffL);
        }

        @Override
        int frameHeadSize(int type) {
            return switch (type) {
                case MSG_STREAM_DATA -> STREAM_DATA_HEAD;
                case MSG_STREAM_DATA_SIZED -> STREAM_DATA_SIZED_HEAD;
                default -> -1;
            };
        }

        @Override
        void onControl(int type, ByteBuffer body) throws IOException {
            int at = body.position();
            switch (type) {
                case MSG_SET_ACK -> {
                    int generation = body.getInt(at);
                    ackWindow = body.getInt(at + 4);
                    sinceAck = -1; // SET_ACK itself is not counted
                    send(MSGC_ACK_SYNC, 4).putInt(generation);
                    flushReply();
                }
                case MSG_PING -> {
                    send(MSGC_PONG, PONG_BODY).putInt(body.getInt(at)).putLong(body.getLong(at + 4));
                    flushReply();
                }
                case MSG_MAIN_INIT -> sessionId = body.getInt(at);
                default -> {
                    // surfaces, stream create/destroy, channel lists: nothing to answer
                }
            }
        }

        @Override
        void onMessageDone() throws IOException {
            if (ackWindow > 0 && ++sinceAck >= ackWindow) {
                sinceAck = 0;
                send(MSGC_ACK, 0);
                flushReply();
            }
        }

        private ByteBuffer send(int type, int bodySize) {
            reply.clear();
            return reply.putShort((short) type).putInt(bodySize);
        }

        private void flushReply() throws IOException {
            write(reply.flip());
        }
    }
}
