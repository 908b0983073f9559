package org.spicestream.transport.socket;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestChannelHandler;
import org.spicestream.device.spi.GuestPortHandler;
import org.spicestream.device.spi.GuestReadAllocator;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.ReconnectBackoff;
import org.spicestream.transport.socket.internal.IoFlavour;
import org.spicestream.transport.socket.internal.SocketEndpoint;

/**
 * A guest port over a TCP or Unix stream socket: one guest connection at a time, connect = port opened,
 * disconnect = port closed; connecting with bounded exponential back-off, or listening ({@code ?listen}).
 *
 * <p>All channels (listener, guest connection, connection attempts) live on one event loop of the context's
 * group, which is also {@link #executor()}; transport state is confined to it.
 */
public final class SocketGuestTransport implements GuestTransport {

    /** Longest time a connection attempt may take before it counts as failed (10 s). */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** Longest time {@link #start} waits for a listening socket to be bound, and {@link #close} for shutdown. */
    public static final Duration BLOCKING_OPERATION_TIMEOUT = Duration.ofSeconds(10);

    /** Smallest read the adaptive read-buffer sizing goes down to, in bytes. */
    public static final int MIN_READ_SIZE = TransportContext.MIN_READ_BUFFER_SIZE;

    private static final Logger log = LoggerFactory.getLogger(SocketGuestTransport.class);

    private final SocketEndpoint endpoint;
    private final TransportContext ctx;
    private final String device;
    private final IoFlavour flavour;
    private final EventLoop loop;
    private final ReconnectBackoff backoff;
    private final AtomicBoolean started = new AtomicBoolean();

    private volatile boolean closed;
    private volatile Channel guest;
    private volatile long connectAttempts;
    private volatile long refusedConnections;
    private GuestPortHandler handler;
    private Channel server;
    private ScheduledFuture<?> reconnectTask;
    private boolean paused;
    private boolean loggedConnectFailure;

    SocketGuestTransport(SocketEndpoint endpoint, TransportContext ctx, Duration initialDelay, Duration maxDelay) {
        this.endpoint = endpoint;
        this.ctx = ctx;
        this.device = ctx.deviceName();
        this.flavour = IoFlavour.of(ctx.eventLoopGroup());
        this.loop = ctx.eventLoopGroup().next();
        this.backoff = new ReconnectBackoff(initialDelay, maxDelay);
    }

    @Override
    public void start(GuestPortHandler handler) {
        if (closed) {
            throw new IllegalStateException(device + ": transport is closed");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException(device + ": transport already started");
        }
        this.handler = handler;
        log.info("{}: starting socket transport, {} ({})", device, endpoint.describe(), flavour);
        if (endpoint.listen()) {
            listen();
        } else {
            loop.execute(this::connect);
        }
    }

    // ---- listening ----

    private void listen() {
        if (endpoint.unix()) {
            removeStaleSocket(Path.of(endpoint.path()));
        }
        ServerBootstrap b = new ServerBootstrap()
                .group(loop)
                .channel(flavour.serverChannel(endpoint.unix()))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted(ch);
                    }
                });
        b.childOption(ChannelOption.RECVBUF_ALLOCATOR, readAllocator())
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark());
        if (!endpoint.unix()) {
            b.childOption(ChannelOption.TCP_NODELAY, true);
        }
        ChannelFuture bound = b.bind(flavour.address(endpoint));
        server = bound.channel();
        bound.addListener(f -> {
            if (f.isSuccess()) {
                log.info("{}: listening for the guest on {}", device, bound.channel().localAddress());
            } else {
                log.error("{}: cannot listen on {}: {}", device, endpoint.describe(), f.cause().toString());
            }
        });
        if (!loop.inEventLoop()) {
            if (!bound.awaitUninterruptibly(BLOCKING_OPERATION_TIMEOUT.toMillis())) {
                throw new UncheckedIOException(new IOException(
                        device + ": binding " + endpoint.describe() + " timed out"));
            }
            if (!bound.isSuccess()) {
                throw new UncheckedIOException(new IOException(
                        device + ": cannot listen on " + endpoint.describe() + ": " + bound.cause(), bound.cause()));
            }
        }
    }

    private void accepted(Channel ch) {
        Channel current = guest;
        if (closed) {
            ch.close();
            return;
        }
        if (current != null) {
            refusedConnections++;
            log.warn("{}: refusing guest connection from {}: the device already has a guest connection from {}"
                    + " (one guest connection per device)", device, peer(ch), peer(current));
            ch.close();
            return;
        }
        log.info("{}: guest connected from {}", device, peer(ch));
        attachGuest(ch);
    }

    private static String peer(Channel ch) {
        SocketAddress remote = ch.remoteAddress();
        return remote == null || remote.toString().isEmpty() ? "a local peer (" + ch.id() + ")" : remote.toString();
    }

    // ---- connecting ----

    private void connect() {
        reconnectTask = null;
        if (closed) {
            return;
        }
        connectAttempts++;
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(flavour.channel(endpoint.unix()))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        attachGuest(ch);
                    }
                });
        b.option(ChannelOption.RECVBUF_ALLOCATOR, readAllocator())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark());
        if (!endpoint.unix()) {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        b.connect(flavour.address(endpoint)).addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                backoff.reset();
                loggedConnectFailure = false;
                log.info("{}: connected to the guest endpoint {}", device, endpoint.describe());
                return;
            }
            if (!loggedConnectFailure) {
                loggedConnectFailure = true;
                log.info("{}: cannot connect to {} ({}); retrying with back-off from {} ms up to {} ms", device,
                        endpoint.describe(), f.cause().toString(), backoff.initial().toMillis(),
                        backoff.max().toMillis());
            } else {
                log.debug("{}: connect attempt {} to {} failed: {}", device, connectAttempts, endpoint.describe(),
                        f.cause().toString());
            }
            // Its close future schedules the next attempt.
            f.channel().close();
        });
    }

    private void scheduleReconnect() {
        if (closed || endpoint.listen() || reconnectTask != null) {
            return;
        }
        Duration delay = backoff.next();
        log.debug("{}: next connection attempt in {} ms", device, delay.toMillis());
        reconnectTask = loop.schedule(this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    // ---- the guest connection ----

    private void attachGuest(Channel ch) {
        guest = ch;
        ch.pipeline().addLast("guest-port", new GuestChannelHandler(handler, device, paused));
        ch.closeFuture().addListener(f -> guestClosed(ch));
    }

    private void guestClosed(Channel ch) {
        if (guest == ch) {
            guest = null;
        }
        log.debug("{}: channel {} closed", device, ch);
        scheduleReconnect();
    }

    private GuestReadAllocator readAllocator() {
        // Reads adapt between MIN_READ_SIZE and the context's limit, so small guest messages do not pin large
        // pooled buffers through the slices the parser keeps; the rest of an announced frame is read in one go.
        return GuestReadAllocator.forPort(ctx, handler);
    }

    private WriteBufferWaterMark waterMark() {
        return new WriteBufferWaterMark(ctx.writeLowWaterMark(), ctx.writeHighWaterMark());
    }

    // ---- GuestTransport ----

    @Override
    public EventExecutor executor() {
        return loop;
    }

    @Override
    public boolean write(ByteBuf data) {
        Channel ch = guest;
        if (closed || ch == null || !ch.isActive()) {
            data.release();
            return false;
        }
        ch.writeAndFlush(data).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("{}: host → guest write failed: {}", device, f.cause().toString());
            }
        });
        return true;
    }

    @Override
    public void setReadingPaused(boolean paused) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> setReadingPaused(paused));
            return;
        }
        this.paused = paused;
        Channel ch = guest;
        if (ch != null) {
            GuestChannelHandler h = ch.pipeline().get(GuestChannelHandler.class);
            if (h != null) {
                h.setPaused(paused);
            }
        }
    }

    @Override
    public void disconnectGuest() {
        if (!loop.inEventLoop()) {
            loop.execute(this::disconnectGuest);
            return;
        }
        Channel ch = guest;
        if (ch != null) {
            log.info("{}: disconnecting the guest {}", device, peer(ch));
            // The empty write completes once everything written before it was flushed.
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Promise<Void> done = loop.newPromise();
        try {
            loop.execute(() -> closeOnLoop(done));
        } catch (RejectedExecutionException e) {
            log.debug("{}: event loop already shut down while closing", device);
            return;
        }
        if (!loop.inEventLoop() && !done.awaitUninterruptibly(BLOCKING_OPERATION_TIMEOUT.toMillis())) {
            log.warn("{}: closing the socket transport took longer than {}", device, BLOCKING_OPERATION_TIMEOUT);
        }
    }

    private void closeOnLoop(Promise<Void> done) {
        if (reconnectTask != null) {
            reconnectTask.cancel(false);
            reconnectTask = null;
        }
        List<ChannelFuture> closing = new ArrayList<>();
        if (server != null) {
            closing.add(server.close());
        }
        Channel ch = guest;
        if (ch != null) {
            closing.add(ch.close());
        }
        log.info("{}: socket transport closed ({})", device, endpoint.describe());
        if (closing.isEmpty()) {
            done.setSuccess(null);
            return;
        }
        int[] left = {closing.size()};
        for (ChannelFuture f : closing) {
            f.addListener(x -> {
                if (--left[0] == 0) {
                    // Let the guest's channelInactive (portClosed) run before reporting completion.
                    loop.execute(() -> done.trySuccess(null));
                }
            });
        }
    }

    @Override
    public String describe() {
        return endpoint.describe();
    }

    // ---- observability ----

    /** The address actually listened on (useful with port 0), or null when not listening (yet). */
    public SocketAddress localAddress() {
        Channel s = server;
        return s == null ? null : s.localAddress();
    }

    /** Connection attempts made so far (connecting mode). */
    public long connectAttempts() {
        return connectAttempts;
    }

    /** Guest connections refused because one was already connected (listening mode). */
    public long refusedConnections() {
        return refusedConnections;
    }

    /** Whether a guest is connected. */
    public boolean isGuestConnected() {
        Channel ch = guest;
        return ch != null && ch.isActive();
    }

    ReconnectBackoff backoff() {
        return backoff;
    }

    // ---- Unix socket file ----

    private void removeStaleSocket(Path path) {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException absent) {
            return;
        }
        if (!attrs.isOther()) {
            throw new UncheckedIOException(new IOException(device + ": " + path
                    + " exists and is not a socket; refusing to replace it"));
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new UncheckedIOException(new IOException(device + ": another process is listening on " + path));
        } catch (IOException notListening) {
            // A socket file nobody listens on: left over from a crash. NIO cannot bind over it.
        }
        try {
            Files.deleteIfExists(path);
            log.info("{}: removed stale socket file {}", device, path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
