package org.spicestream.reds.testclient;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.internal.Caps;
import org.spicestream.reds.internal.Rsa;
import org.spicestream.reds.internal.Wire;

/**
 * A protocol-level SPICE test client (Netty): links one channel (link message, RSA-OAEP ticket, link
 * result), then decodes data messages into a queue. It answers SET_ACK/ACK windows like spice-gtk and
 * PING with PONG unless told otherwise. One instance = one channel connection.
 */
public final class SpiceTestClient implements AutoCloseable {

    /** Default wait for a message or the link result. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** Bound of the server's handshake answer (WebSocket mode). */
    static final int WS_HANDSHAKE_MAX_RESPONSE = 8192;
    /** Bound of one frame from the server (WebSocket mode). */
    static final int WS_MAX_FRAME = 64 * 1024 * 1024;

    private static final EventLoopGroup GROUP =
            new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("spice-test-client", true), NioIoHandler.newFactory());

    /** One received data message: type and body bytes (header stripped). */
    public record Message(int type, byte[] body) {
        public ByteBuf buf() {
            return Unpooled.wrappedBuffer(body).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        }

        /** The message as it was on the wire with a mini header. */
        public byte[] withMiniHeader() {
            byte[] out = new byte[6 + body.length];
            out[0] = (byte) type;
            out[1] = (byte) (type >> 8);
            for (int i = 0; i < 4; i++) {
                out[2 + i] = (byte) (body.length >> (8 * i));
            }
            System.arraycopy(body, 0, out, 6, body.length);
            return out;
        }

        @Override
        public String toString() {
            return "Message{type=" + type + ", " + body.length + " bytes}";
        }
    }

    /** The server's link reply (or link error, then only {@code error} and {@code raw} are meaningful). */
    public record LinkReply(int error, byte[] raw, byte[] pubKey, int[] commonCaps, int[] channelCaps) {
        public boolean hasCommonCap(int cap) {
            return Caps.has(commonCaps, cap);
        }

        public boolean hasChannelCap(int cap) {
            return Caps.has(channelCaps, cap);
        }
    }

    /** Link parameters. */
    public static final class Options {
        long connectionId;
        int channelType = SpiceChannelType.MAIN;
        int channelId;
        String password = "";
        int[] commonCaps = {SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION, SpiceMessages.COMMON_CAP_MINI_HEADER};
        int[] channelCaps = {};
        boolean autoAck = true;
        boolean hidePings = true;
        int mechanism = Wire.AUTH_MECHANISM_SPICE;
        SslContext tls;
        String webSocketPath;
        String connectAuthority;
        Message afterTicket;

        /**
         * Sends this client message in the same write as the ticket, before the link result arrived (a client that
         * pipelines): the server must keep it for the linked channel.
         */
        public Options afterTicket(int type, byte[] body) {
            this.afterTicket = new Message(type, body.clone());
            return this;
        }

        /**
         * Open the connection with {@code CONNECT authority HTTP/1.0} first (as spice-gtk does through a proxy) and
         * link over the tunnel once the answer is 200 (null = no CONNECT).
         */
        public Options httpConnect(String authority) {
            this.connectAuthority = authority;
            return this;
        }

        /** Link over TLS with this client context (null = plain). */
        public Options tls(SslContext context) {
            this.tls = context;
            return this;
        }

        /** Link over a WebSocket (sub-protocol "binary", like spice-html5) at this path (null = raw TCP). */
        public Options webSocket(String path) {
            this.webSocketPath = path;
            return this;
        }

        public Options channel(int type, int id) {
            this.channelType = type;
            this.channelId = id;
            return this;
        }

        public Options connectionId(long id) {
            this.connectionId = id;
            return this;
        }

        /** Password (null or "" = empty ticket, a single NUL). */
        public Options password(String password) {
            this.password = password == null ? "" : password;
            return this;
        }

        /** Common capability numbers (default AUTH_SELECTION, MINI_HEADER as spice-gtk). */
        public Options commonCaps(int... caps) {
            this.commonCaps = caps.clone();
            return this;
        }

        /** Channel capability numbers. */
        public Options channelCaps(int... caps) {
            this.channelCaps = caps.clone();
            return this;
        }

        public Options autoAck(boolean on) {
            this.autoAck = on;
            return this;
        }

        /** If false, PING messages are queued too (they are always answered). */
        public Options hidePings(boolean hide) {
            this.hidePings = hide;
            return this;
        }

        public Options mechanism(int mechanism) {
            this.mechanism = mechanism;
            return this;
        }
    }

    public static Options options() {
        return new Options();
    }

    private final Options opts;
    private final Channel ch;
    private final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> linkResult = new CompletableFuture<>();
    private final CompletableFuture<LinkReply> linkReply = new CompletableFuture<>();
    private volatile boolean autoAck;
    /** ACKs not sent while automatic ACKs were off (event-loop confined). */
    private int owedAcks;
    private final CompletableFuture<Integer> sessionId = new CompletableFuture<>();
    private volatile boolean mini;
    private volatile int received;
    private volatile int pongs;

    private SpiceTestClient(Options opts, Channel ch) {
        this.opts = opts;
        this.ch = ch;
        this.autoAck = opts.autoAck;
    }

    /** Connects and links; returns when the link result (or a link error, or close) arrived. */
    public static SpiceTestClient connect(InetSocketAddress server, Options opts) {
        Holder holder = new Holder();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Bootstrap b = new Bootstrap()
                .group(GROUP)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel c) {
                        if (opts.tls != null) {
                            c.pipeline().addLast(opts.tls.newHandler(c.alloc(), server.getHostString(), server.getPort()));
                        }
                        if (opts.connectAuthority != null) {
                            c.pipeline().addLast(new HttpConnectStart(opts.connectAuthority, ready));
                        } else if (opts.webSocketPath != null) {
                            c.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(WS_HANDSHAKE_MAX_RESPONSE),
                                    new WebSocketClientProtocolHandler(WebSocketClientProtocolConfig.newBuilder()
                                            .webSocketUri(URI.create((opts.tls != null ? "wss://" : "ws://")
                                                    + server.getHostString() + ":" + server.getPort() + opts.webSocketPath))
                                            .subprotocol("binary")
                                            .maxFramePayloadLength(WS_MAX_FRAME)
                                            .build()),
                                    new WebSocketBytes(ready));
                        } else {
                            ready.complete(null);
                        }
                        c.pipeline().addLast(new ClientHandler(holder));
                    }
                });
        Channel ch = b.connect(server).syncUninterruptibly().channel();
        SpiceTestClient client = new SpiceTestClient(opts, ch);
        holder.set(client);
        ch.closeFuture().addListener(f -> {
            ready.completeExceptionally(new IllegalStateException("closed before the WebSocket handshake"));
            client.linkReply.complete(null);
            client.linkResult.complete(-1);
        });
        try {
            ready.orTimeout(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
        } catch (RuntimeException e) {
            ch.close();
            throw e;
        }
        ch.writeAndFlush(Unpooled.wrappedBuffer(client.linkMessage()));
        client.linkResult.orTimeout(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
        return client;
    }

    /** Links a main channel with {@code password}. */
    public static SpiceTestClient connectMain(InetSocketAddress server, String password) {
        return connect(server, options().password(password));
    }

    /** Links channel (type, id) into this (main) client's session, with the same password. */
    public SpiceTestClient linkChannel(int type, int id, int... channelCaps) {
        return connect((InetSocketAddress) ch.remoteAddress(),
                options().password(opts.password).connectionId(Integer.toUnsignedLong(awaitSessionId()))
                        .channel(type, id).channelCaps(channelCaps).tls(opts.tls).webSocket(opts.webSocketPath)
                        .httpConnect(opts.connectAuthority));
    }

    /** The bytes of SpiceLinkHeader + SpiceLinkMess + caps this client sends. */
    public byte[] linkMessage() {
        int[] common = Caps.words(opts.commonCaps);
        int[] channel = Caps.words(opts.channelCaps);
        int size = Wire.LINK_MESS_SIZE + 4 * (common.length + channel.length);
        ByteBuf b = Unpooled.buffer(Wire.LINK_HEADER_SIZE + size);
        b.writeIntLE(Wire.LINK_MAGIC).writeIntLE(Wire.VERSION_MAJOR).writeIntLE(Wire.VERSION_MINOR).writeIntLE(size);
        b.writeIntLE((int) opts.connectionId).writeByte(opts.channelType).writeByte(opts.channelId);
        b.writeIntLE(common.length).writeIntLE(channel.length).writeIntLE(Wire.LINK_MESS_SIZE);
        for (int w : common) {
            b.writeIntLE(w);
        }
        for (int w : channel) {
            b.writeIntLE(w);
        }
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    /** Link result: 0 OK, a link error code, or -1 if the connection closed without one. */
    public int linkResult() {
        return linkResult.join();
    }

    /** The link reply, or null if the connection closed before one. */
    public LinkReply linkReply() {
        return linkReply.getNow(null);
    }

    /** Session id from MAIN_INIT (main channel only); waits for it. */
    public int awaitSessionId() {
        try {
            return sessionId.get(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("no MAIN_INIT received", e);
        }
    }

    /** Next message, waiting up to {@link #DEFAULT_TIMEOUT}; AssertionError if none. */
    public Message next() {
        return next(DEFAULT_TIMEOUT);
    }

    public Message next(Duration timeout) {
        try {
            Message m = messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (m == null) {
                throw new AssertionError("no message within " + timeout + " (connection " + (ch.isActive() ? "open" : "closed") + ")");
            }
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Next message of {@code type}, skipping others. */
    public Message next(int type) {
        long deadline = System.nanoTime() + DEFAULT_TIMEOUT.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Message m = next(Duration.ofNanos(Math.max(1, left)));
            if (m.type() == type) {
                return m;
            }
        }
    }

    /** A message if one is already queued, else null. */
    public Message poll() {
        return messages.poll();
    }

    public List<Message> drain() {
        List<Message> out = new java.util.ArrayList<>();
        messages.drainTo(out);
        return out;
    }

    /** Sends a data message with the negotiated header. */
    public void send(int type, byte[] body) {
        ByteBuf b = Unpooled.buffer();
        if (mini) {
            b.writeShortLE(type).writeIntLE(body.length);
        } else {
            b.writeLongLE(0).writeShortLE(type).writeIntLE(body.length).writeIntLE(0);
        }
        b.writeBytes(body);
        ch.writeAndFlush(b).syncUninterruptibly();
    }

    /** Sends raw bytes. */
    public void sendRaw(byte[] bytes) {
        ch.writeAndFlush(Unpooled.wrappedBuffer(bytes)).syncUninterruptibly();
    }

    /** Sends an ACK (for tests that answer the window themselves). */
    public void ack() {
        send(SpiceMessages.MSGC_ACK, new byte[0]);
    }

    public void setAutoAck(boolean on) {
        this.autoAck = on;
    }

    /**
     * Turns automatic ACKs back on and sends every ACK owed for the windows completed while they were off: a
     * stalled client that processes what it had received and goes on, as spice-gtk would.
     */
    public void resumeAcking() {
        ch.eventLoop().submit(() -> {
            autoAck = true;
            int n = owedAcks;
            owedAcks = 0;
            for (int i = 0; i < n; i++) {
                ch.write(ackMessage());
            }
            ch.flush();
        }).syncUninterruptibly();
    }

    private ByteBuf ackMessage() {
        ByteBuf b = Unpooled.buffer();
        if (mini) {
            b.writeShortLE(SpiceMessages.MSGC_ACK).writeIntLE(0);
        } else {
            b.writeLongLE(0).writeShortLE(SpiceMessages.MSGC_ACK).writeIntLE(0).writeIntLE(0);
        }
        return b;
    }

    /** Data messages received so far (pings included). */
    public int receivedCount() {
        return received;
    }

    /** PONGs sent so far. */
    public int pongs() {
        return pongs;
    }

    public boolean isOpen() {
        return ch.isActive();
    }

    /** Waits until the server closed the connection. */
    public boolean awaitClosed(Duration timeout) {
        return ch.closeFuture().awaitUninterruptibly(timeout.toMillis());
    }

    @Override
    public void close() {
        ch.close().syncUninterruptibly();
    }

    private static final class Holder {
        private final CompletableFuture<SpiceTestClient> client = new CompletableFuture<>();

        void set(SpiceTestClient c) {
            client.complete(c);
        }

        SpiceTestClient get() {
            return client.join();
        }
    }

    private enum State { LINK_HEADER, LINK_BODY, RESULT, DATA }

    private static final class ClientHandler extends ByteToMessageDecoder {
        private final Holder holder;
        private State state = State.LINK_HEADER;
        private int size;
        private byte[] headerBytes;
        private int ackWindow;
        private int sinceAck;

        ClientHandler(Holder holder) {
            this.holder = holder;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            SpiceTestClient c = holder.get();
            while (true) {
                switch (state) {
                    case LINK_HEADER -> {
                        if (in.readableBytes() < Wire.LINK_HEADER_SIZE) {
                            return;
                        }
                        headerBytes = new byte[Wire.LINK_HEADER_SIZE];
                        in.readBytes(headerBytes);
                        size = Unpooled.wrappedBuffer(headerBytes).getIntLE(12);
                        state = State.LINK_BODY;
                    }
                    case LINK_BODY -> {
                        if (in.readableBytes() < size) {
                            return;
                        }
                        byte[] body = new byte[size];
                        in.readBytes(body);
                        byte[] raw = new byte[headerBytes.length + size];
                        System.arraycopy(headerBytes, 0, raw, 0, headerBytes.length);
                        System.arraycopy(body, 0, raw, headerBytes.length, size);
                        ByteBuf bb = Unpooled.wrappedBuffer(body);
                        int error = bb.getIntLE(0);
                        if (error != 0) {
                            c.linkReply.complete(new LinkReply(error, raw, null, new int[0], new int[0]));
                            c.linkResult.complete(error);
                            state = State.DATA;
                            return;
                        }
                        byte[] key = Arrays.copyOfRange(body, 4, 4 + Wire.PUB_KEY_SIZE);
                        int nc = bb.getIntLE(166);
                        int nch = bb.getIntLE(170);
                        int off = bb.getIntLE(174);
                        int[] common = new int[nc];
                        int[] chan = new int[nch];
                        for (int i = 0; i < nc; i++) {
                            common[i] = bb.getIntLE(off + 4 * i);
                        }
                        for (int i = 0; i < nch; i++) {
                            chan[i] = bb.getIntLE(off + 4 * (nc + i));
                        }
                        LinkReply reply = new LinkReply(0, raw, key, common, chan);
                        c.linkReply.complete(reply);
                        c.mini = reply.hasCommonCap(SpiceMessages.COMMON_CAP_MINI_HEADER)
                                && Caps.has(Caps.words(c.opts.commonCaps), SpiceMessages.COMMON_CAP_MINI_HEADER);
                        PublicKey pk = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(key));
                        byte[] ticket = Rsa.encryptTicket(pk, c.opts.password.getBytes(StandardCharsets.UTF_8));
                        ByteBuf auth = ctx.alloc().buffer(4 + ticket.length);
                        if (reply.hasCommonCap(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION)
                                && Caps.has(Caps.words(c.opts.commonCaps), SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION)) {
                            auth.writeIntLE(c.opts.mechanism);
                        }
                        auth.writeBytes(ticket);
                        Message early = c.opts.afterTicket;
                        if (early != null) {
                            if (c.mini) {
                                auth.writeShortLE(early.type()).writeIntLE(early.body().length);
                            } else {
                                auth.writeLongLE(0).writeShortLE(early.type()).writeIntLE(early.body().length).writeIntLE(0);
                            }
                            auth.writeBytes(early.body());
                        }
                        ctx.writeAndFlush(auth);
                        state = State.RESULT;
                    }
                    case RESULT -> {
                        if (in.readableBytes() < 4) {
                            return;
                        }
                        int result = in.readIntLE();
                        state = State.DATA;
                        c.linkResult.complete(result);
                    }
                    case DATA -> {
                        int hs = c.mini ? Wire.MINI_HEADER_SIZE : Wire.FULL_HEADER_SIZE;
                        if (in.readableBytes() < hs) {
                            return;
                        }
                        int r = in.readerIndex();
                        int type = c.mini ? in.getUnsignedShortLE(r) : in.getUnsignedShortLE(r + 8);
                        int len = c.mini ? in.getIntLE(r + 2) : in.getIntLE(r + 10);
                        if (in.readableBytes() < hs + len) {
                            return;
                        }
                        in.skipBytes(hs);
                        byte[] body = new byte[len];
                        in.readBytes(body);
                        onMessage(ctx, c, new Message(type, body));
                    }
                }
            }
        }

        private void onMessage(ChannelHandlerContext ctx, SpiceTestClient c, Message m) {
            c.received++;
            if (m.type() == SpiceMessages.MSG_SET_ACK) {
                ByteBuf b = m.buf();
                int generation = b.getIntLE(0);
                ackWindow = b.getIntLE(4);
                sinceAck = 0;
                reply(ctx, c, SpiceMessages.MSGC_ACK_SYNC, Unpooled.buffer(4).writeIntLE(generation));
                c.messages.add(m);
                return;
            }
            if (m.type() == SpiceMessages.MSG_PING) {
                c.pongs++;
                reply(ctx, c, SpiceMessages.MSGC_PONG, Unpooled.wrappedBuffer(Arrays.copyOf(m.body(), 12)));
            } else if (m.type() == SpiceMessages.MSG_MAIN_INIT && c.opts.channelType == SpiceChannelType.MAIN) {
                c.sessionId.complete(m.buf().getIntLE(0));
            }
            if (ackWindow > 0 && ++sinceAck >= ackWindow) {
                sinceAck = 0;
                if (c.autoAck) {
                    reply(ctx, c, SpiceMessages.MSGC_ACK, Unpooled.EMPTY_BUFFER);
                } else {
                    c.owedAcks++;
                }
            }
            if (m.type() != SpiceMessages.MSG_PING || !c.opts.hidePings) {
                c.messages.add(m);
            }
        }

        private static void reply(ChannelHandlerContext ctx, SpiceTestClient c, int type, ByteBuf body) {
            ByteBuf b = ctx.alloc().buffer();
            if (c.mini) {
                b.writeShortLE(type).writeIntLE(body.readableBytes());
            } else {
                b.writeLongLE(0).writeShortLE(type).writeIntLE(body.readableBytes()).writeIntLE(0);
            }
            b.writeBytes(body);
            body.release();
            ctx.writeAndFlush(b);
        }
    }

    /** WebSocket mode: binary frame payloads in and out as plain bytes. */
    /** Sends CONNECT, reads the answer's head; on 200 steps aside, otherwise fails the connect with the status line. */
    private static final class HttpConnectStart extends ByteToMessageDecoder {
        private final String authority;
        private final CompletableFuture<Void> ready;

        HttpConnectStart(String authority, CompletableFuture<Void> ready) {
            this.authority = authority;
            this.ready = ready;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            ctx.writeAndFlush(Unpooled.copiedBuffer("CONNECT " + authority + " HTTP/1.0\r\nHost: " + authority
                    + "\r\nUser-Agent: spicestream-test\r\n\r\n", StandardCharsets.US_ASCII));
            super.channelActive(ctx);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            String text = in.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            in.skipBytes(end + 4);
            String status = text.substring(0, text.indexOf("\r\n"));
            if (status.matches("HTTP/1\\.[01] 200 .*")) {
                ctx.pipeline().remove(this);
                ready.complete(null);
            } else {
                ready.completeExceptionally(new IllegalStateException("CONNECT refused: " + status));
                ctx.close();
            }
        }
    }

    private static final class WebSocketBytes extends ChannelDuplexHandler {
        private final CompletableFuture<Void> ready;

        WebSocketBytes(CompletableFuture<Void> ready) {
            this.ready = ready;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                ready.complete(null);
            } else if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
                ready.completeExceptionally(new IllegalStateException("WebSocket handshake timed out"));
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame f) {
                ctx.fireChannelRead(f.content());
            } else if (msg instanceof WebSocketFrame f) {
                f.release();
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf b ? new BinaryWebSocketFrame(b) : msg, promise);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ready.completeExceptionally(cause);
            ctx.close();
        }
    }
}
