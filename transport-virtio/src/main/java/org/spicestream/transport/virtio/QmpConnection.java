package org.spicestream.transport.virtio;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.ReconnectBackoff;
import org.spicestream.transport.virtio.internal.Json;
import org.spicestream.transport.virtio.internal.UnixIo;

/**
 * A QMP (QEMU Machine Protocol) client over a Unix socket, in Netty: waits for the greeting, negotiates
 * capabilities ({@code qmp_capabilities}), then runs commands and delivers events. Reconnects with bounded
 * back-off when QEMU goes away (QEMU serves one client per QMP socket, so give each user its own socket or share
 * one connection).
 *
 * <p>Every message is one JSON line of at most {@link #MAX_MESSAGE_BYTES}; a longer one, or one that is not JSON,
 * drops the connection (logged) and it reconnects. All state lives on one event loop; {@link #execute} may be
 * called from any thread; listeners are called on the loop.
 */
public final class QmpConnection implements AutoCloseable {

    /** Longest QMP message (one line) accepted from QEMU: 256 KiB; the replies we ask for are far smaller. */
    public static final int MAX_MESSAGE_BYTES = 256 * 1024;

    /** Longest time from connecting to negotiated capabilities before the attempt counts as failed (10 s). */
    public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    /** Longest time QEMU may take to answer a command (10 s). */
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(10);

    /** Commands in flight at most; more fail at once (input events are dropped rather than queued without bound). */
    public static final int MAX_PENDING_COMMANDS = 256;

    /** Longest time a connection attempt may take (10 s). */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** First delay before reconnecting to QMP (100 ms). */
    public static final Duration DEFAULT_INITIAL_RECONNECT_DELAY = Duration.ofMillis(100);

    /** Longest delay between QMP connection attempts (5 s). */
    public static final Duration DEFAULT_MAX_RECONNECT_DELAY = Duration.ofSeconds(5);

    /** Longest time {@link #close} waits for the connection to close. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(QmpConnection.class);

    /** Receives connection state changes and events; called on the connection's event loop. */
    public interface Listener {
        /** Capabilities are negotiated: commands can be run. Called again after every reconnection. */
        default void ready(QmpConnection qmp) {}

        /** A QMP event; {@code data} is empty when the event has none. */
        default void event(String name, Map<String, Object> data) {}

        /** The connection was lost (only after {@link #ready}); pending commands have failed. */
        default void disconnected() {}
    }

    /** A command failed: QEMU answered with an error, or there is no connection, or it timed out. */
    public static final class QmpException extends RuntimeException {
        private final String errorClass;

        QmpException(String errorClass, String message) {
            super(message);
            this.errorClass = errorClass;
        }

        /** QEMU's error class ({@code GenericError}, {@code DeviceNotFound} …), or a local one. */
        public String errorClass() {
            return errorClass;
        }
    }

    private enum State { DISCONNECTED, GREETING, NEGOTIATING, READY }

    private record Pending(CompletableFuture<Object> future, ScheduledFuture<?> timeout, String command) {}

    private final Path socket;
    private final String name;
    private final EventLoop loop;
    private final UnixIo io;
    private final ReconnectBackoff backoff;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private final AtomicBoolean started = new AtomicBoolean();

    private volatile boolean closed;
    private volatile State state = State.DISCONNECTED;
    private Channel channel;
    private ScheduledFuture<?> reconnectTask;
    private ScheduledFuture<?> handshakeTask;
    private long nextId;
    private boolean loggedConnectFailure;
    private volatile long connections;
    private volatile long oversizedMessages;
    private volatile long malformedMessages;
    private volatile long rejectedCommands;

    /**
     * A connection to the QMP socket {@code socket}, on one loop of {@code group} (epoll or NIO), with the default
     * reconnect back-off; {@code name} (the device name) is in every log line. Nothing happens before {@link #start}.
     */
    public static QmpConnection create(Path socket, EventLoopGroup group, String name) {
        return new QmpConnection(socket, group.next(), UnixIo.of(group), name, DEFAULT_INITIAL_RECONNECT_DELAY,
                DEFAULT_MAX_RECONNECT_DELAY);
    }

    QmpConnection(Path socket, EventLoop loop, UnixIo io, String name, Duration initialDelay, Duration maxDelay) {
        this.socket = Objects.requireNonNull(socket, "socket");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.io = io;
        this.name = Objects.requireNonNull(name, "name");
        this.backoff = new ReconnectBackoff(initialDelay, maxDelay);
    }

    /** Adds a listener (before {@link #start}, to see the first {@code ready}). */
    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Starts connecting (and reconnecting until closed). */
    public void start() {
        if (closed) {
            throw new IllegalStateException(name + ": QMP connection is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException(name + ": QMP connection already started");
        }
        log.info("{}: connecting to QMP at {}", name, socket);
        loop.execute(this::connect);
    }

    /** The event loop all of this connection's work runs on. */
    public EventLoop executor() {
        return loop;
    }

    /** Whether capabilities are negotiated and commands can be run now. */
    public boolean isReady() {
        return state == State.READY;
    }

    /** The QMP socket. */
    public Path socket() {
        return socket;
    }

    /** Runs {@code command} without arguments; see {@link #execute(String, Map)}. */
    public CompletableFuture<Object> execute(String command) {
        return execute(command, Map.of());
    }

    /**
     * Runs {@code command} with {@code arguments} (JSON-able: maps, lists, strings, numbers, booleans). The future
     * completes on the event loop with the {@code return} value, or fails with a {@link QmpException} when QEMU
     * answers with an error, the connection is not ready or lost, {@link #MAX_PENDING_COMMANDS} are in flight, or
     * there is no answer within {@link #COMMAND_TIMEOUT}.
     */
    public CompletableFuture<Object> execute(String command, Map<String, ?> arguments) {
        Objects.requireNonNull(command, "command");
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("execute", command);
        if (arguments != null && !arguments.isEmpty()) {
            message.put("arguments", arguments);
        }
        Json.write(message); // fails here, in the caller, on a value JSON cannot carry
        CompletableFuture<Object> future = new CompletableFuture<>();
        if (loop.inEventLoop()) {
            send(command, message, future);
        } else {
            try {
                loop.execute(() -> send(command, message, future));
            } catch (RejectedExecutionException e) {
                future.completeExceptionally(new QmpException("Unavailable", name + ": QMP event loop shut down"));
            }
        }
        return future;
    }

    private void send(String command, Map<String, Object> message, CompletableFuture<Object> future) {
        if (state != State.READY || channel == null) {
            rejectedCommands++;
            future.completeExceptionally(new QmpException("Unavailable", name + ": QMP is not connected (" + socket
                    + "), '" + command + "' not sent"));
            return;
        }
        if (pending.size() >= MAX_PENDING_COMMANDS) {
            rejectedCommands++;
            future.completeExceptionally(new QmpException("Overloaded", name + ": " + MAX_PENDING_COMMANDS
                    + " QMP commands in flight, '" + command + "' not sent"));
            return;
        }
        String id = "spicestream-" + (++nextId);
        message.put("id", id);
        ScheduledFuture<?> timeout = loop.schedule(() -> {
            Pending p = pending.remove(id);
            if (p != null) {
                log.warn("{}: QMP command '{}' got no answer within {}", name, command, COMMAND_TIMEOUT);
                p.future().completeExceptionally(new QmpException("Timeout", name + ": QMP command '" + command
                        + "' got no answer within " + COMMAND_TIMEOUT));
            }
        }, COMMAND_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        pending.put(id, new Pending(future, timeout, command));
        writeLine(channel, Json.write(message));
    }

    private void writeLine(Channel ch, String json) {
        log.trace("{}: QMP -> {}", name, json);
        ch.writeAndFlush(ByteBufUtil.writeUtf8(ch.alloc(), json + "\n")).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("{}: QMP write failed: {}", name, f.cause().toString());
            }
        });
    }

    // ---- connection ----

    private void connect() {
        reconnectTask = null;
        if (closed) {
            return;
        }
        Bootstrap b = new Bootstrap().group(loop).channel(io.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("qmp-lines", new LineBasedFrameDecoder(MAX_MESSAGE_BYTES, true, true));
                        ch.pipeline().addLast("qmp", new QmpHandler());
                    }
                });
        b.connect(io.address(socket)).addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                if (closed) {
                    f.channel().close();
                    return;
                }
                channel = f.channel();
                connections++;
                state = State.GREETING;
                loggedConnectFailure = false;
                log.debug("{}: connected to QMP {}, waiting for the greeting", name, socket);
                Channel ch = f.channel();
                handshakeTask = loop.schedule(() -> {
                    if (channel == ch && state != State.READY) {
                        log.warn("{}: QMP {} did not complete the handshake within {} (another client may hold"
                                + " this socket: QEMU serves one at a time); reconnecting", name, socket,
                                HANDSHAKE_TIMEOUT);
                        ch.close();
                    }
                }, HANDSHAKE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
                ch.closeFuture().addListener(x -> connectionClosed(ch));
                return;
            }
            if (!loggedConnectFailure) {
                loggedConnectFailure = true;
                log.info("{}: cannot connect to QMP {} ({}); retrying with back-off from {} ms up to {} ms", name,
                        socket, f.cause().toString(), backoff.initial().toMillis(), backoff.max().toMillis());
            } else {
                log.debug("{}: QMP connect attempt failed: {}", name, f.cause().toString());
            }
            f.channel().close();
            scheduleReconnect();
        });
    }

    private void scheduleReconnect() {
        if (closed || reconnectTask != null) {
            return;
        }
        Duration delay = backoff.next();
        reconnectTask = loop.schedule(this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void connectionClosed(Channel ch) {
        if (channel != ch) {
            return;
        }
        channel = null;
        boolean wasReady = state == State.READY;
        state = State.DISCONNECTED;
        if (handshakeTask != null) {
            handshakeTask.cancel(false);
            handshakeTask = null;
        }
        if (wasReady) {
            log.info("{}: QMP connection to {} lost", name, socket);
            // Listeners first, so that they can ignore the failures of their commands that follow.
            for (Listener l : listeners) {
                try {
                    l.disconnected();
                } catch (RuntimeException e) {
                    log.error("{}: QMP listener failed on disconnect", name, e);
                }
            }
        }
        List<Pending> lost = List.copyOf(pending.values());
        pending.clear();
        for (Pending p : lost) {
            p.timeout().cancel(false);
            p.future().completeExceptionally(new QmpException("Unavailable", name + ": QMP connection lost before '"
                    + p.command() + "' was answered"));
        }
        scheduleReconnect();
    }

    private void received(Channel ch, String line) {
        Object parsed;
        try {
            parsed = Json.parse(line);
        } catch (IllegalArgumentException e) {
            malformedMessages++;
            log.warn("{}: malformed QMP message ({}); disconnecting: {}", name, e.getMessage(), abbreviate(line));
            ch.close();
            return;
        }
        if (!(parsed instanceof Map<?, ?> raw)) {
            malformedMessages++;
            log.warn("{}: QMP message is not a JSON object; disconnecting: {}", name, abbreviate(line));
            ch.close();
            return;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> msg = (Map<String, Object>) raw;
        log.trace("{}: QMP <- {}", name, line);
        switch (state) {
            case GREETING -> {
                if (!msg.containsKey("QMP")) {
                    log.warn("{}: expected the QMP greeting from {}, got {}; disconnecting", name, socket,
                            abbreviate(line));
                    ch.close();
                    return;
                }
                state = State.NEGOTIATING;
                writeLine(ch, "{\"execute\":\"qmp_capabilities\",\"id\":\"spicestream-capabilities\"}");
            }
            case NEGOTIATING -> {
                if (msg.containsKey("event")) {
                    return;
                }
                if (msg.containsKey("error")) {
                    log.warn("{}: QMP refused capabilities negotiation: {}; disconnecting", name, msg.get("error"));
                    ch.close();
                    return;
                }
                if (!msg.containsKey("return")) {
                    log.warn("{}: unexpected QMP message during negotiation: {}; disconnecting", name,
                            abbreviate(line));
                    ch.close();
                    return;
                }
                state = State.READY;
                backoff.reset();
                if (handshakeTask != null) {
                    handshakeTask.cancel(false);
                    handshakeTask = null;
                }
                log.info("{}: QMP ready on {}", name, socket);
                for (Listener l : listeners) {
                    try {
                        l.ready(this);
                    } catch (RuntimeException e) {
                        log.error("{}: QMP listener failed on ready", name, e);
                    }
                }
            }
            case READY -> dispatch(msg, line);
            default -> { }
        }
    }

    private void dispatch(Map<String, Object> msg, String line) {
        if (msg.get("event") instanceof String event) {
            Map<String, Object> data = msg.get("data") instanceof Map<?, ?> d ? castMap(d) : Map.of();
            for (Listener l : listeners) {
                try {
                    l.event(event, data);
                } catch (RuntimeException e) {
                    log.error("{}: QMP listener failed on event {}", name, event, e);
                }
            }
            return;
        }
        Object id = msg.get("id");
        Pending p = id instanceof String s ? pending.remove(s) : null;
        if (p == null) {
            log.debug("{}: QMP answer to nothing pending: {}", name, abbreviate(line));
            return;
        }
        p.timeout().cancel(false);
        if (msg.containsKey("error")) {
            Map<String, Object> error = msg.get("error") instanceof Map<?, ?> e ? castMap(e) : Map.of();
            p.future().completeExceptionally(new QmpException(String.valueOf(error.get("class")),
                    name + ": QMP '" + p.command() + "' failed: " + error.get("desc")));
        } else {
            p.future().complete(msg.get("return"));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "… (" + s.length() + " chars)";
    }

    private final class QmpHandler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
            received(ctx.channel(), msg.toString(StandardCharsets.UTF_8));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException || cause.getCause() instanceof TooLongFrameException) {
                oversizedMessages++;
                log.warn("{}: QMP message from {} is longer than {} bytes; disconnecting", name, socket,
                        MAX_MESSAGE_BYTES);
            } else if (cause instanceof IOException) {
                log.info("{}: QMP connection {} failed: {}", name, socket, cause.toString());
            } else {
                log.warn("{}: error on the QMP connection {}", name, socket, cause);
            }
            ctx.close();
        }
    }

    // ---- closing and observability ----

    /** Closes the connection for good; pending commands fail. Idempotent; waits (bounded) unless on an event loop. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Promise<Void> done = loop.newPromise();
        try {
            loop.execute(() -> {
                if (reconnectTask != null) {
                    reconnectTask.cancel(false);
                    reconnectTask = null;
                }
                Channel ch = channel;
                if (ch == null) {
                    done.trySuccess(null);
                } else {
                    ch.close().addListener(f -> loop.execute(() -> done.trySuccess(null)));
                }
            });
        } catch (RejectedExecutionException e) {
            return;
        }
        if (!loop.inEventLoop() && !done.awaitUninterruptibly(CLOSE_TIMEOUT.toMillis())) {
            log.warn("{}: closing the QMP connection took longer than {}", name, CLOSE_TIMEOUT);
        }
    }

    /** Successful connections so far. */
    public long connections() {
        return connections;
    }

    /** Messages longer than {@link #MAX_MESSAGE_BYTES} seen (each dropped the connection). */
    public long oversizedMessages() {
        return oversizedMessages;
    }

    /** Messages that were not a JSON object (each dropped the connection). */
    public long malformedMessages() {
        return malformedMessages;
    }

    /** Commands failed at once because QMP was not ready or too many were in flight. */
    public long rejectedCommands() {
        return rejectedCommands;
    }

    @Override
    public String toString() {
        return "QmpConnection[" + name + " " + socket + " " + state + "]";
    }
}
