package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.internal.AckWindow;
import org.spicestream.reds.internal.Caps;
import org.spicestream.reds.internal.CommonMessages;
import org.spicestream.reds.internal.DeliveryTracker;
import org.spicestream.reds.internal.InboundMessage;
import org.spicestream.reds.internal.Liveness;
import org.spicestream.reds.internal.MessageHeaders;
import org.spicestream.reds.internal.SendQueue;
import org.spicestream.reds.internal.SpiceMessageDecoder;

/**
 * One client connection on one channel ("rcc"). Confined to its Netty event loop; {@link #trySend},
 * {@link #send} and {@link #disconnect} may be called from any thread.
 *
 * <p>It ties together parts that are tested alone (package {@code internal}): {@link SpiceMessageDecoder} (inbound
 * framing and size limits), {@link MessageHeaders}, {@link SendQueue} (bounds, order, congestion), {@link AckWindow}
 * and {@link Liveness} (pings, stuck detection), plus {@link DeliveryTracker} for frames; what stays here is the
 * hand-off to the event loop, the common client messages, timers and the connection's lifecycle.
 */
public final class RedChannelClient {

    private static final Logger LOG = LoggerFactory.getLogger(RedChannelClient.class);

    /** Largest body accepted for the common client messages ACK_SYNC, ACK, PONG, DISCONNECTING. */
    public static final int MAX_COMMON_MESSAGE_SIZE = 1024;
    /** Messages a queue takes beyond its bound for control messages ({@link #send}); see {@link #CONTROL_RESERVE_BYTES}. */
    public static final int CONTROL_RESERVE_MESSAGES = 64;
    /** Bytes a queue takes beyond its bound for control messages ({@link #send}): stream and surface changes. */
    public static final long CONTROL_RESERVE_BYTES = 64 * 1024;
    /** Delay of the first latency ping after the link (B58: about 100 ms). */
    public static final long FIRST_PING_DELAY_MS = 100;
    /** Retry delay of a ping that found the connection busy (B58 pings only an idle socket). */
    public static final long BUSY_PING_RETRY_MS = 1000;
    /** How many checks for a stuck connection run per stuck timeout. */
    public static final int STUCK_CHECKS_PER_TIMEOUT = 4;

    private static final AtomicInteger CLIENT_NUMBERS = new AtomicInteger();

    private final SpiceServer server;
    private final RedChannel channel;
    private final Session session;
    private final Channel ch;
    private final EventLoop loop;
    private final MessageHeaders headers;
    private final int headerSize;
    private final int[] remoteCommonCaps;
    private final int[] remoteChannelCaps;
    private final String logContext;
    private final SendQueue queue;
    private final DeliveryTracker delivery = new DeliveryTracker();
    /** The pump's gate and writer, made once: a method reference capturing {@code this} is a new object each time. */
    private final BooleanSupplier ackOpen = this::ackOpen;
    private final SendQueue.Writer writer = this::writeNow;

    private volatile boolean closed;
    private volatile Runnable drainListener;
    private volatile Executor drainExecutor;
    private volatile Runnable deliveryListener;
    private volatile Executor deliveryExecutor;

    // event-loop confined
    private final AckWindow ack;
    private final Liveness liveness = new Liveness(System.nanoTime());
    private boolean closing;
    private ScheduledFuture<?> pingTimer;
    private ScheduledFuture<?> stuckTimer;

    RedChannelClient(SpiceServer server, RedChannel channel, Session session, Channel ch, boolean miniHeader,
            int[] remoteCommonCaps, int[] remoteChannelCaps) {
        this.server = server;
        this.channel = channel;
        this.session = session;
        this.ch = ch;
        this.loop = ch.eventLoop();
        this.headers = new MessageHeaders(miniHeader);
        this.headerSize = headers.size();
        this.remoteCommonCaps = remoteCommonCaps.clone();
        this.remoteChannelCaps = remoteChannelCaps.clone();
        ConnectionConfig cfg = server.config().connection();
        this.queue = new SendQueue(cfg.sendQueueMaxBytes(), cfg.sendQueueMaxMessages(), CONTROL_RESERVE_BYTES,
                CONTROL_RESERVE_MESSAGES);
        this.ack = new AckWindow(channel.usesAckWindow(), channel.ackWindow(cfg.ackWindow()), 2 * cfg.ackWindow());
        this.logContext = server.config().name() + " " + channel.name() + " client=" + CLIENT_NUMBERS.incrementAndGet() + " session="
                + Integer.toHexString(session.id());
    }

    // ------------------------------------------------------------------ public API

    /**
     * Queues {@code m} unless the queue bound (bytes or messages) would be exceeded; then it releases
     * {@code m}, counts a drop and returns false. Thread-safe; order per producer thread is kept.
     */
    public boolean trySend(OutgoingMessage m) {
        return offer(m, false, DeliveryTracker.NONE);
    }

    /**
     * As {@link #trySend}, for a video frame that arrived at {@code stampNanos} ({@link System#nanoTime()}): the
     * connection tracks when the client acknowledges it ({@link #undeliveredFrames}, {@link #lastDeliveryAgeNanos},
     * R10). Thread-safe.
     */
    public boolean trySendFrame(OutgoingMessage m, long stampNanos) {
        if (stampNanos == DeliveryTracker.NONE) {
            throw new IllegalArgumentException("no stamp");
        }
        return offer(m, false, stampNanos);
    }

    /**
     * Queues a control message (stream or surface change, channel list, …) that must not be lost: it may use
     * {@link #CONTROL_RESERVE_MESSAGES} / {@link #CONTROL_RESERVE_BYTES} beyond the queue bound, so that a client
     * whose queue refuses frames still gets it. Only when that reserve is full too is the client disconnected (a
     * logged, counted event). Thread-safe.
     */
    public void send(OutgoingMessage m) {
        if (!offer(m, true, DeliveryTracker.NONE) && !closed) {
            LOG.warn("{}: send queue overflow ({} messages, {} bytes queued): disconnecting", logContext,
                    queue.queuedMessages(), queue.queuedBytes());
            disconnect("send queue overflow");
        }
    }

    private boolean offer(OutgoingMessage m, boolean control, long stamp) {
        if (closed) {
            m.release();
            return false;
        }
        boolean timed = stamp != DeliveryTracker.NONE;
        long size = (long) m.bodySize() + headerSize;
        if (!queue.reserve(size, control)) {
            m.release();
            return false;
        }
        if (timed) {
            delivery.accepted();
        }
        if (loop.inEventLoop()) {
            enqueue(m, size, stamp);
        } else {
            try {
                loop.execute(() -> enqueue(m, size, stamp));
            } catch (RejectedExecutionException e) {
                queue.unreserve(size);
                if (timed) {
                    delivery.abandoned();
                }
                m.release();
                return false;
            }
        }
        return true;
    }

    /** Queues a NOTIFY (spice-wire §6.1). */
    public boolean sendNotify(int severity, int visibility, String text) {
        return trySend(CommonMessages.notify(alloc(), 0, severity, visibility, text));
    }

    public boolean hasRemoteChannelCap(int cap) {
        return Caps.has(remoteChannelCaps, cap);
    }

    public boolean hasRemoteCommonCap(int cap) {
        return Caps.has(remoteCommonCaps, cap);
    }

    public ClientSession session() {
        return session;
    }

    public RedChannel channel() {
        return channel;
    }

    public SocketAddress remoteAddress() {
        return ch.remoteAddress();
    }

    /** Bytes (headers included) queued and not yet handed to the socket. */
    public long queuedBytes() {
        return queue.queuedBytes();
    }

    public int queuedMessages() {
        return queue.queuedMessages();
    }

    /**
     * True while the queue is more than half full or refused a message, until it drains below half: the state
     * in which the drain listener is armed. Producers that pause on it are woken by that listener.
     */
    public boolean isCongested() {
        return queue.isCongested();
    }

    /** Messages refused by {@link #trySend} because the queue was full. */
    public long droppedMessages() {
        return queue.dropped();
    }

    /**
     * Frames ({@link #trySendFrame}) accepted and not yet acknowledged by the client: queued, in the socket or on
     * their way. With the display channel's window of 1 every frame is acknowledged on its own (R10).
     */
    public int undeliveredFrames() {
        return delivery.undelivered();
    }

    /** Stamp of the oldest frame not yet acknowledged, or {@link Long#MIN_VALUE} when there is none. */
    public long oldestUndeliveredFrameNanos() {
        return delivery.oldestUndeliveredStamp();
    }

    /** Frames the client acknowledged so far. */
    public long deliveredFrames() {
        return delivery.delivered();
    }

    /** How old (acknowledgement time minus stamp) the newest acknowledged frame was, -1 before the first. */
    public long lastDeliveryAgeNanos() {
        return delivery.lastAgeNanos();
    }

    /**
     * The client's time per frame while it had more frames waiting (between two acknowledgements), averaged; -1
     * before it was measured. A client that keeps up shows the stream's frame interval.
     */
    public long frameServiceNanos() {
        return delivery.serviceNanos();
    }

    /** Stamp of the newest acknowledged frame, or {@link Long#MIN_VALUE} before the first. */
    public long lastDeliveredFrameNanos() {
        return delivery.lastStamp();
    }

    /** Last measured PING round trip in nanoseconds, -1 before the first PONG. */
    public long roundTripNanos() {
        return liveness.roundTripNanos();
    }

    public EventLoop eventLoop() {
        return loop;
    }

    public ByteBufAllocator alloc() {
        return ch.alloc();
    }

    public boolean isConnected() {
        return !closed;
    }

    /** Closes this connection (logged with {@code reason}). Thread-safe. */
    public void disconnect(String reason) {
        if (loop.inEventLoop()) {
            doDisconnect(reason, false);
        } else {
            try {
                loop.execute(() -> doDisconnect(reason, false));
            } catch (RejectedExecutionException e) {
                ch.close();
            }
        }
    }

    /**
     * {@code listener} runs on this connection's event loop when a queue that was more than half full
     * (or refused a message) drains below half.
     */
    public void setDrainListener(Runnable listener) {
        setDrainListener(listener, null);
    }

    /** As {@link #setDrainListener(Runnable)}, running the listener on {@code executor}. */
    public void setDrainListener(Runnable listener, Executor executor) {
        this.drainExecutor = executor;
        this.drainListener = listener;
    }

    /** {@code listener} runs on {@code executor} (null: the connection's loop) whenever the client acknowledged frames. */
    public void setDeliveryListener(Runnable listener, Executor executor) {
        this.deliveryExecutor = executor;
        this.deliveryListener = listener;
    }

    /** Context for log lines, e.g. "display:0 client=3 session=1a2b". */
    public String logContext() {
        return logContext;
    }

    @Override
    public String toString() {
        return logContext;
    }

    // ------------------------------------------------------------------ core

    Session sessionInternal() {
        return session;
    }

    /** Runs on the loop after the link result was written and the pipeline switched. */
    void start() {
        if (ack.enabled()) {
            enqueueInternal(CommonMessages.setAck(alloc(), ack.nextGeneration(), ack.window()));
        }
        try {
            channel.onConnect(this);
        } catch (RuntimeException e) {
            LOG.warn("{}: onConnect failed", logContext, e);
            doDisconnect("channel connect failed: " + e, false);
            return;
        }
        pingTimer = loop.schedule(this::pingTick, FIRST_PING_DELAY_MS, TimeUnit.MILLISECONDS);
        long stuckPeriod = Math.max(1, server.config().connection().stuckClientTimeout().toNanos() / STUCK_CHECKS_PER_TIMEOUT);
        stuckTimer = loop.scheduleAtFixedRate(this::stuckCheck, stuckPeriod, stuckPeriod, TimeUnit.NANOSECONDS);
    }

    /** Sends DISCONNECTING with {@code reason} (bypassing the queue) and closes; {@code why} is logged. */
    void closeGracefully(int reason, String why) {
        if (!loop.inEventLoop()) {
            try {
                loop.execute(() -> closeGracefully(reason, why));
            } catch (RejectedExecutionException e) {
                ch.close();
            }
            return;
        }
        if (closing) {
            return;
        }
        closing = true;
        LOG.info("{}: closing ({})", logContext, why);
        releaseQueue();
        OutgoingMessage m = CommonMessages.disconnecting(alloc(), System.nanoTime(), reason);
        writeNow(m, false);
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    Channel nettyChannel() {
        return ch;
    }

    /** Adds this connection's handlers after {@code after} (the link stage's, removed next). */
    void addHandlers(ChannelPipeline pipeline, String after) {
        pipeline.addAfter(after, "rcc-decoder", new SpiceMessageDecoder(headers.mini(), this::maxMessageSize,
                () -> closing));
        pipeline.addAfter("rcc-decoder", "rcc", new Handler());
    }

    private void doDisconnect(String reason, boolean quiet) {
        if (closing) {
            return;
        }
        closing = true;
        if (!quiet) {
            LOG.info("{}: disconnecting: {}", logContext, reason);
        }
        releaseQueue();
        ch.close();
    }

    /** Queues a message of the connection's own (SET_ACK, PING) beyond the bounds. */
    private void enqueueInternal(OutgoingMessage m) {
        if (closing) {
            m.release();
            return;
        }
        queue.addUnbounded(m, (long) m.bodySize() + headerSize);
        pump();
    }

    private void enqueue(OutgoingMessage m, long size, long stamp) {
        boolean timed = stamp != DeliveryTracker.NONE;
        if (closing || closed) {
            queue.unreserve(size);
            if (timed) {
                delivery.abandoned();
            }
            m.release();
            return;
        }
        queue.add(m, size, timed);
        if (timed) {
            delivery.queued(stamp);
        }
        pump();
    }

    private void pump() {
        if (closing) {
            return;
        }
        if (queue.pump(ch, ackOpen, writer) > 0) {
            long now = System.nanoTime();
            liveness.progress(now);
            ch.flush();
            if (!ack.enabled() && delivery.deliverWritten(now) > 0) {
                notifyDelivery();
            }
            maybeDrained();
        }
    }

    private boolean ackOpen() {
        return !ack.blocked();
    }

    private void writeNow(OutgoingMessage m, boolean timed) {
        ch.write(headers.next(ch.alloc(), m.type(), m.bodySize()), ch.voidPromise());
        ch.write(m.head(), ch.voidPromise());
        if (m.payload() != null) {
            ch.write(m.payload(), ch.voidPromise());
        }
        ack.written();
        if (m.type() == SpiceMessages.MSG_SET_ACK) {
            delivery.windowStarted(); // spice-gtk counts the messages after SET_ACK
        } else {
            delivery.written(timed, System.nanoTime());
        }
    }

    private void maybeDrained() {
        Runnable listener = drainListener;
        // without a listener the queue stays congested: nobody paused on it would be woken
        if (listener != null && queue.takeDrained()) {
            Executor ex = drainExecutor;
            Runnable safe = () -> {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    LOG.warn("{}: drain listener failed", logContext, e);
                }
            };
            if (ex == null) {
                safe.run();
            } else {
                ex.execute(safe);
            }
        }
    }

    private void releaseQueue() {
        queue.releaseAll();
        delivery.clear();
    }

    private void notifyDelivery() {
        Runnable listener = deliveryListener;
        if (listener == null) {
            return;
        }
        Runnable safe = () -> {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warn("{}: delivery listener failed", logContext, e);
            }
        };
        Executor ex = deliveryExecutor;
        if (ex == null) {
            safe.run();
        } else {
            ex.execute(safe);
        }
    }

    private void pingTick() {
        if (closing) {
            return;
        }
        switch (liveness.pingDue(queue.isEmpty() && ch.isWritable())) {
            case WAIT -> { } // the stuck check decides; the PONG handler schedules the next ping
            case RETRY_LATER -> pingTimer = loop.schedule(this::pingTick, BUSY_PING_RETRY_MS, TimeUnit.MILLISECONDS);
            case SEND -> {
                long now = System.nanoTime();
                enqueueInternal(CommonMessages.ping(alloc(), liveness.pingSent(now), now));
            }
        }
    }

    private void stuckCheck() {
        if (closing) {
            return;
        }
        // Waiting on the client: messages it must acknowledge before more go out, frames it has not acknowledged,
        // or a PING it has not answered. Only an ACK (or a write) answers the first two, only the PONG the last.
        long timeout = server.config().connection().stuckClientTimeout().toNanos();
        boolean awaitingAck = !queue.isEmpty() || delivery.undelivered() > 0;
        long stuck = liveness.stuckNanos(System.nanoTime(), awaitingAck, timeout);
        if (stuck >= 0) {
            LOG.warn("{}: no progress for {} ms ({} messages queued, {} frames unacknowledged, pong outstanding: {})",
                    logContext, TimeUnit.NANOSECONDS.toMillis(stuck), queue.size(), delivery.undelivered(),
                    liveness.pingOutstanding());
            doDisconnect("stuck client", false);
        }
    }

    private int maxMessageSize(int type) {
        if (type >= SpiceMessages.FIRST_CHANNEL_MESSAGE) {
            return channel.maxClientMessageSize(type);
        }
        return switch (type) {
            case SpiceMessages.MSGC_ACK_SYNC, SpiceMessages.MSGC_ACK, SpiceMessages.MSGC_PONG,
                    SpiceMessages.MSGC_DISCONNECTING -> MAX_COMMON_MESSAGE_SIZE;
            default -> -1; // migration messages are unexpected: we never offer migration
        };
    }

    private void handleMessage(int type, ByteBuf body) {
        switch (type) {
            case SpiceMessages.MSGC_ACK_SYNC -> {
                requireBody(type, body, 4);
                ack.sync(body.readIntLE());
            }
            case SpiceMessages.MSGC_ACK -> {
                int acknowledged = ack.ack();
                if (acknowledged != AckWindow.IGNORED) {
                    long now = System.nanoTime();
                    if (acknowledged > 0) {
                        liveness.progress(now);
                    }
                    if (delivery.acknowledged(ack.window(), now) > 0) {
                        notifyDelivery();
                    }
                    pump();
                }
            }
            case SpiceMessages.MSGC_PONG -> {
                requireBody(type, body, 12);
                int id = body.readIntLE();
                long ts = body.readLongLE();
                if (liveness.pong(id, ts, System.nanoTime())) {
                    long roundTrip = liveness.roundTripNanos();
                    LOG.debug("{}: round trip {} us", logContext, roundTrip / 1000);
                    session.clock().roundTrip(this, roundTrip);
                    pingTimer = loop.schedule(this::pingTick, server.config().connection().pingInterval().toNanos(),
                            TimeUnit.NANOSECONDS);
                }
            }
            case SpiceMessages.MSGC_DISCONNECTING -> LOG.debug("{}: client says it is disconnecting", logContext);
            default -> channel.onMessage(this, type, body);
        }
    }

    private static void requireBody(int type, ByteBuf body, int min) {
        if (body.readableBytes() < min) {
            throw new SpiceProtocolException("message " + type + " body too short: " + body.readableBytes() + " < " + min);
        }
    }

    private void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        releaseQueue();
        if (pingTimer != null) {
            pingTimer.cancel(false);
        }
        if (stuckTimer != null) {
            stuckTimer.cancel(false);
        }
        channel.removeClient(this);
        try {
            channel.onDisconnect(this);
        } catch (RuntimeException e) {
            LOG.warn("{}: onDisconnect failed", logContext, e);
        }
        server.clientClosed(this);
        LOG.debug("{}: closed", logContext);
    }

    /** Inbound side: dispatch of the decoded messages, writability, the end of the connection. */
    private final class Handler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof InboundMessage m)) {
                ctx.fireChannelRead(msg);
                return;
            }
            try {
                if (!closing) {
                    // Only an ACK, a PONG or a written message is progress: a client that sends other messages but
                    // never acknowledges must still reach the stuck timeout.
                    handleMessage(m.type(), m.content());
                }
            } finally {
                m.release();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (ctx.channel().isWritable()) {
                liveness.progress(System.nanoTime());
                pump();
            }
            super.channelWritabilityChanged(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            try {
                super.channelInactive(ctx);
            } finally {
                onClosed();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            if (c instanceof SpiceProtocolException) {
                LOG.warn("{}: protocol violation: {}", logContext, c.getMessage());
                doDisconnect("protocol violation: " + c.getMessage(), true);
            } else if (c instanceof java.io.IOException) {
                doDisconnect("I/O error: " + c.getMessage(), false);
            } else {
                LOG.warn("{}: unexpected error", logContext, c);
                server.countInternalError();
                doDisconnect("internal error: " + c, true);
            }
        }
    }
}
