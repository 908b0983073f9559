package org.spicestream.transport.virtio;

import io.netty.bootstrap.Bootstrap;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestChannelHandler;
import org.spicestream.device.spi.GuestInputSink;
import org.spicestream.device.spi.GuestPortHandler;
import org.spicestream.device.spi.GuestReadAllocator;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.ReconnectBackoff;
import org.spicestream.transport.virtio.internal.UnixIo;
import org.spicestream.transport.virtio.internal.VirtioEndpoint;

/**
 * The host end of a QEMU virtio-serial port: a client of QEMU's {@code -chardev socket,server=on} that backs a
 * {@code virtserialport} (named {@code org.spice-space.stream.0} for a stream device), reconnecting with bounded
 * back-off when QEMU goes away or restarts.
 *
 * <h2>When the port counts as open</h2>
 *
 * <p>Without QMP, connecting to the chardev counts as the guest opening the port and losing it as closing it
 * (QEMU itself holds host bytes until the guest opens its end).
 *
 * <p>With QMP ({@code ?qmp=}), the port is open while the chardev is connected <em>and</em> the guest has its end
 * open, which QEMU reports with {@code VSERPORT_CHANGE} events for the port's device id ({@code &port=ID}, or
 * discovered: the {@code virtserialport} under {@code /machine/peripheral} whose {@code chardev} is the one at our
 * socket path). The state at (re)connection comes from {@code query-chardev}'s {@code frontend-open} of the port's
 * chardev, which QEMU sets exactly when the guest opens or closes the port. QEMU rate-limits VSERPORT_CHANGE (one
 * per second per port, a newer event replacing a held-back one), so a quick close and reopen may arrive as a lone
 * {@code open=true}: an {@code open=true} while the port is open is taken as close + open, and the device
 * resets. Guest bytes that arrive while the guest's end counts as closed are read and discarded (the protocol
 * has the host speak first, so a guest waits for CAPABILITIES after opening).
 *
 * <p>When the state cannot be learnt (QMP not reachable within {@link #QMP_STATE_GRACE} of the chardev
 * connecting, or the port or its chardev not found), the transport falls back to "connected = open" with a
 * warning; a later event still applies, and an {@code open=true} then only confirms the assumption.
 *
 * <p>All channels (chardev, QMP) live on one event loop of the context's group, which is also {@link
 * #executor()}; transport state is confined to it.
 */
public final class VirtioGuestTransport implements GuestTransport {

    /** Longest time a chardev connection attempt may take before it counts as failed (10 s). */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    /** Longest time {@link #close} waits for the connections to close. */
    public static final Duration BLOCKING_OPERATION_TIMEOUT = Duration.ofSeconds(10);

    /**
     * How long a connected chardev waits for QMP to tell whether the guest has the port open before assuming it
     * has (5 s: QMP normally answers within milliseconds; this covers a QMP socket that is busy or missing).
     */
    public static final Duration QMP_STATE_GRACE = Duration.ofSeconds(5);

    /** Most {@code virtserialport} devices examined when discovering the port id through QMP. */
    public static final int MAX_DISCOVERY_CANDIDATES = 64;

    /** Smallest read the adaptive read-buffer sizing goes down to, in bytes. */
    public static final int MIN_READ_SIZE = TransportContext.MIN_READ_BUFFER_SIZE;

    /** The QMP event for a guest opening or closing a virtio-serial port. */
    public static final String VSERPORT_CHANGE = "VSERPORT_CHANGE";

    private static final Logger log = LoggerFactory.getLogger(VirtioGuestTransport.class);

    /** What we know of the guest's end of the port (QMP mode). */
    enum GuestState { UNKNOWN, OPEN, CLOSED, ASSUMED_OPEN }

    private final VirtioEndpoint endpoint;
    private final TransportContext ctx;
    private final String device;
    private final UnixIo io;
    private final EventLoop loop;
    private final ReconnectBackoff backoff;
    private final QmpConnection qmp;
    private final AtomicBoolean started = new AtomicBoolean();

    private volatile boolean closed;
    private volatile Channel chardev;
    private volatile boolean deviceOpen;
    private volatile long connectAttempts;
    private volatile long portEvents;
    private volatile long mergedReopens;
    private volatile long discardedBytes;
    private volatile GuestState guestState = GuestState.UNKNOWN;
    private volatile String portId;
    private GuestPortHandler handler;
    private ScheduledFuture<?> reconnectTask;
    private ScheduledFuture<?> graceTask;
    private boolean chardevUp;
    private boolean paused;
    private boolean loggedConnectFailure;
    private long qmpGeneration;
    private QmpInputSink inputSink;

    VirtioGuestTransport(VirtioEndpoint endpoint, TransportContext ctx, Duration initialDelay, Duration maxDelay) {
        this.endpoint = endpoint;
        this.ctx = ctx;
        this.device = ctx.deviceName();
        this.io = UnixIo.of(ctx.eventLoopGroup());
        this.loop = ctx.eventLoopGroup().next();
        this.backoff = new ReconnectBackoff(initialDelay, maxDelay);
        this.portId = endpoint.portId();
        if (endpoint.qmp() != null) {
            qmp = new QmpConnection(endpoint.qmp(), loop, io, device, initialDelay, maxDelay);
            qmp.addListener(new QmpListener());
        } else {
            qmp = null;
        }
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
        log.info("{}: starting virtio transport, {} ({})", device, endpoint.describe(), io);
        if (qmp != null) {
            qmp.start();
        }
        loop.execute(this::connect);
    }

    // ---- the chardev connection ----

    private void connect() {
        reconnectTask = null;
        if (closed) {
            return;
        }
        connectAttempts++;
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(io.channel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                .option(ChannelOption.RECVBUF_ALLOCATOR, new GuestReadAllocator(ctx, this::pendingBytes))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(ctx.writeLowWaterMark(), ctx.writeHighWaterMark()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        chardev = ch;
                        ch.pipeline().addLast("guest-port", new GuestChannelHandler(new Gate(), device, paused));
                        ch.closeFuture().addListener(f -> chardevClosed(ch));
                    }
                });
        b.connect(io.address(endpoint.chardev())).addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                backoff.reset();
                loggedConnectFailure = false;
                log.info("{}: connected to the QEMU chardev {}", device, endpoint.chardev());
                return;
            }
            if (!loggedConnectFailure) {
                loggedConnectFailure = true;
                log.info("{}: cannot connect to the QEMU chardev {} ({}); retrying with back-off from {} ms up to {}"
                        + " ms", device, endpoint.chardev(), f.cause().toString(), backoff.initial().toMillis(),
                        backoff.max().toMillis());
            } else {
                log.debug("{}: chardev connect attempt {} failed: {}", device, connectAttempts, f.cause().toString());
            }
            f.channel().close();
        });
    }

    private void chardevClosed(Channel ch) {
        if (chardev == ch) {
            chardev = null;
        }
        log.debug("{}: chardev channel {} closed", device, ch);
        if (closed || reconnectTask != null) {
            return;
        }
        Duration delay = backoff.next();
        reconnectTask = loop.schedule(this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Between the chardev connection's handler and the device: opens the device per the guest state. */
    private final class Gate implements GuestPortHandler {
        @Override
        public void portOpened() {
            chardevUp = true;
            if (qmp != null && guestState == GuestState.UNKNOWN && graceTask == null) {
                graceTask = loop.schedule(VirtioGuestTransport.this::graceExpired, QMP_STATE_GRACE.toNanos(),
                        TimeUnit.NANOSECONDS);
            }
            update();
        }

        @Override
        public void dataReceived(ByteBuf data) {
            if (deviceOpen) {
                handler.dataReceived(data);
                return;
            }
            discardedBytes += data.readableBytes();
            log.debug("{}: discarding {} bytes from the chardev: the guest's end of the port counts as closed",
                    device, data.readableBytes());
        }

        @Override
        public void portClosed() {
            chardevUp = false;
            if (qmp != null && !qmp.isReady()) {
                // Neither QMP nor the chardev: QEMU is likely gone; learn the state afresh.
                guestState = GuestState.UNKNOWN;
            }
            cancelGrace();
            update();
        }

        @Override
        public void writabilityChanged(boolean writable) {
            handler.writabilityChanged(writable);
        }

        @Override
        public int pendingBytes() {
            return VirtioGuestTransport.this.pendingBytes();
        }
    }

    private int pendingBytes() {
        return deviceOpen ? handler.pendingBytes() : 0;
    }

    private boolean guestEndOpen() {
        if (qmp == null) {
            return true;
        }
        GuestState s = guestState;
        return s == GuestState.OPEN || s == GuestState.ASSUMED_OPEN;
    }

    private void update() {
        boolean want = chardevUp && guestEndOpen() && !closed;
        if (want && !deviceOpen) {
            deviceOpen = true;
            handler.portOpened();
        } else if (!want && deviceOpen) {
            deviceOpen = false;
            handler.portClosed();
        }
    }

    private void graceExpired() {
        graceTask = null;
        if (closed || guestState != GuestState.UNKNOWN || !chardevUp) {
            return;
        }
        log.warn("{}: QMP ({}) did not tell within {} whether the guest has the port open; assuming it has while"
                + " the chardev is connected", device, endpoint.qmp(), QMP_STATE_GRACE);
        guestState = GuestState.ASSUMED_OPEN;
        update();
    }

    private void cancelGrace() {
        if (graceTask != null) {
            graceTask.cancel(false);
            graceTask = null;
        }
    }

    // ---- QMP ----

    private final class QmpListener implements QmpConnection.Listener {
        @Override
        public void ready(QmpConnection q) {
            long generation = ++qmpGeneration;
            resolvePort(q)
                    .thenCompose(label -> q.execute("query-chardev").thenApply(r -> frontendOpen(r, label)))
                    .whenComplete((open, error) -> {
                        if (closed || generation != qmpGeneration) {
                            return;
                        }
                        if (error != null) {
                            Throwable cause = error.getCause() != null ? error.getCause() : error;
                            if (guestState == GuestState.UNKNOWN) {
                                log.warn("{}: cannot learn the guest's port state through QMP ({}); assuming the"
                                        + " guest has it open while the chardev is connected", device,
                                        cause.getMessage());
                                guestState = GuestState.ASSUMED_OPEN;
                                cancelGrace();
                                update();
                            }
                            return;
                        }
                        log.info("{}: QMP: port {} is {} in the guest", device, portId, open ? "open" : "closed");
                        guestState = open ? GuestState.OPEN : GuestState.CLOSED;
                        cancelGrace();
                        update();
                    });
        }

        @Override
        public void event(String name, Map<String, Object> data) {
            if (!VSERPORT_CHANGE.equals(name) || closed) {
                return;
            }
            Object id = data.get("id");
            if (portId == null || !portId.equals(id) || !(data.get("open") instanceof Boolean open)) {
                log.debug("{}: ignoring {} {}", device, name, data);
                return;
            }
            portChanged(open);
        }

        @Override
        public void disconnected() {
            qmpGeneration++;
            if (!chardevUp) {
                guestState = GuestState.UNKNOWN;
            }
        }
    }

    private void portChanged(boolean open) {
        portEvents++;
        cancelGrace();
        log.info("{}: QMP: guest {} port {}", device, open ? "opened" : "closed", portId);
        if (open && guestState == GuestState.OPEN && deviceOpen) {
            // QEMU's rate limit merged a close and the reopen into this one event: reset as if both were seen.
            mergedReopens++;
            log.info("{}: port {} reported open while open: the guest closed and reopened it within QEMU's event"
                    + " rate limit; resetting", device, portId);
            deviceOpen = false;
            handler.portClosed();
            update();
            return;
        }
        guestState = open ? GuestState.OPEN : GuestState.CLOSED;
        update();
    }

    /** The label of the port's chardev; discovers the port id first when it was not configured. */
    private CompletableFuture<String> resolvePort(QmpConnection q) {
        String configured = endpoint.portId();
        if (configured != null) {
            return q.execute("qom-get", Map.of("path", "/machine/peripheral/" + configured, "property", "chardev"))
                    .thenApply(r -> {
                        if (!(r instanceof String label) || label.isEmpty()) {
                            throw new IllegalStateException("port " + configured + " has no chardev");
                        }
                        return label;
                    });
        }
        String path = endpoint.chardev().toString();
        return q.execute("query-chardev").thenCompose(r -> {
            String label = labelForPath(r, path);
            if (label == null) {
                throw new IllegalStateException("no QEMU chardev is a unix socket at " + path);
            }
            return q.execute("qom-list", Map.of("path", "/machine/peripheral")).thenCompose(children -> {
                List<String> candidates = new ArrayList<>();
                if (children instanceof List<?> list) {
                    for (Object o : list) {
                        if (o instanceof Map<?, ?> m && m.get("name") instanceof String n
                                && m.get("type") instanceof String t && t.contains("virtserialport")
                                && candidates.size() < MAX_DISCOVERY_CANDIDATES) {
                            candidates.add(n);
                        }
                    }
                }
                return findPortWithChardev(q, candidates, 0, label);
            });
        });
    }

    private CompletableFuture<String> findPortWithChardev(QmpConnection q, List<String> candidates, int i,
            String label) {
        if (i >= candidates.size()) {
            return CompletableFuture.failedFuture(new IllegalStateException("no virtserialport with an id uses"
                    + " chardev '" + label + "' (give -device virtserialport an id=, or name it with &port=ID)"));
        }
        String id = candidates.get(i);
        return q.execute("qom-get", Map.of("path", "/machine/peripheral/" + id, "property", "chardev"))
                .handle((r, e) -> label.equals(r))
                .thenCompose(match -> {
                    if (match) {
                        portId = id;
                        log.info("{}: discovered the port through QMP: virtserialport id={} chardev={}", device, id,
                                label);
                        return CompletableFuture.completedFuture(label);
                    }
                    return findPortWithChardev(q, candidates, i + 1, label);
                });
    }

    static String labelForPath(Object queryChardev, String path) {
        if (!(queryChardev instanceof List<?> list)) {
            return null;
        }
        for (Object o : list) {
            if (o instanceof Map<?, ?> m && m.get("filename") instanceof String f && m.get("label") instanceof String l
                    && referencesPath(f, path)) {
                return l;
            }
        }
        return null;
    }

    /** QEMU shows a socket chardev as {@code unix:PATH,server=on} (prefixed {@code disconnected:} when idle). */
    private static boolean referencesPath(String filename, String path) {
        int at = filename.indexOf("unix:" + path);
        if (at < 0) {
            return false;
        }
        int end = at + 5 + path.length();
        return end == filename.length() || filename.charAt(end) == ',';
    }

    private static boolean frontendOpen(Object queryChardev, String label) {
        if (queryChardev instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> m && label.equals(m.get("label"))) {
                    return Boolean.TRUE.equals(m.get("frontend-open"));
                }
            }
        }
        throw new IllegalStateException("query-chardev does not list chardev '" + label + "'");
    }

    // ---- GuestTransport ----

    @Override
    public EventExecutor executor() {
        return loop;
    }

    @Override
    public boolean write(ByteBuf data) {
        Channel ch = chardev;
        if (closed || ch == null || !ch.isActive() || !deviceOpen) {
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
        Channel ch = chardev;
        if (ch != null) {
            GuestChannelHandler h = ch.pipeline().get(GuestChannelHandler.class);
            if (h != null) {
                h.setPaused(paused);
            }
        }
    }

    /**
     * Drops the chardev connection once pending writes are flushed and reconnects (the guest sees its host end go
     * and come back; its own end stays open), so the device starts afresh.
     */
    @Override
    public void disconnectGuest() {
        if (!loop.inEventLoop()) {
            loop.execute(this::disconnectGuest);
            return;
        }
        Channel ch = chardev;
        if (ch != null) {
            log.info("{}: disconnecting from the chardev {} to disable the port", device, endpoint.chardev());
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (qmp != null) {
            qmp.close();
        }
        Promise<Void> done = loop.newPromise();
        try {
            loop.execute(() -> closeOnLoop(done));
        } catch (RejectedExecutionException e) {
            log.debug("{}: event loop already shut down while closing", device);
            return;
        }
        if (!loop.inEventLoop() && !done.awaitUninterruptibly(BLOCKING_OPERATION_TIMEOUT.toMillis())) {
            log.warn("{}: closing the virtio transport took longer than {}", device, BLOCKING_OPERATION_TIMEOUT);
        }
    }

    private void closeOnLoop(Promise<Void> done) {
        if (reconnectTask != null) {
            reconnectTask.cancel(false);
            reconnectTask = null;
        }
        cancelGrace();
        log.info("{}: virtio transport closed ({})", device, endpoint.describe());
        Channel ch = chardev;
        if (ch == null) {
            done.setSuccess(null);
            return;
        }
        // Let channelInactive (portClosed) run before reporting completion.
        ch.close().addListener(f -> loop.execute(() -> done.trySuccess(null)));
    }

    @Override
    public String describe() {
        return endpoint.describe();
    }

    // ---- input and observability ----

    /** The QMP connection ({@code ?qmp=}), shared by the port events and the {@link #inputSink()}. */
    public Optional<QmpConnection> qmp() {
        return Optional.ofNullable(qmp);
    }

    /**
     * An input sink that injects SPICE clients' keyboard and mouse into this VM over the transport's QMP
     * connection (QEMU serves one client per QMP socket, so it shares this one); empty without {@code ?qmp=}.
     * The same instance every time.
     */
    public synchronized Optional<QmpInputSink> inputSink() {
        if (qmp == null) {
            return Optional.empty();
        }
        if (inputSink == null) {
            inputSink = new QmpInputSink(qmp, device);
        }
        return Optional.of(inputSink);
    }

    /** {@link GuestInputSink} (the {@link #inputSink()}, with {@code ?qmp=}); nothing else. */
    @Override
    public <T> Optional<T> capability(Class<T> type) {
        if (type.isAssignableFrom(QmpInputSink.class)) {
            return inputSink().map(type::cast);
        }
        return Optional.empty();
    }

    /** Whether the chardev is connected. */
    public boolean isChardevConnected() {
        Channel ch = chardev;
        return ch != null && ch.isActive();
    }

    /** Whether the port counts as open (chardev connected and, with QMP, the guest's end open). */
    public boolean isPortOpen() {
        return deviceOpen;
    }

    /** The port id events are matched against: configured, discovered, or null (not known yet / no QMP). */
    public String portId() {
        return portId;
    }

    /** Chardev connection attempts so far. */
    public long connectAttempts() {
        return connectAttempts;
    }

    /** VSERPORT_CHANGE events applied to this port. */
    public long portEvents() {
        return portEvents;
    }

    /** {@code open=true} events while open, taken as a close and reopen merged by QEMU's rate limit. */
    public long mergedReopens() {
        return mergedReopens;
    }

    /** Chardev bytes discarded because the guest's end counted as closed. */
    public long discardedBytes() {
        return discardedBytes;
    }

    GuestState guestState() {
        return guestState;
    }
}
