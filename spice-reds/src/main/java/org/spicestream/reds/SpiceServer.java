package org.spicestream.reds;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.internal.LinkMess;
import org.spicestream.reds.internal.TicketVerifier;
import org.spicestream.reds.internal.web.ClasspathFiles;
import org.spicestream.reds.internal.web.ProtocolSniffer;

/** The SPICE server: listens, links clients, runs the main and inputs channels and the channel registry. */
public final class SpiceServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpiceServer.class);

    /**
     * DISCONNECTING reason (a link error code) sent to every channel of a session that a new client replaced (R12):
     * ERROR, where a server shutdown sends OK. Clients only log the reason; the built-in browser client then stays
     * disconnected instead of reconnecting.
     */
    public static final int REPLACED_REASON = SpiceLinkError.ERROR;

    /** How long {@link #close()} waits for client connections to close after DISCONNECTING. */
    public static final long CLOSE_TIMEOUT_MS = 2000;
    /** Quiet period of event loops the server created, on close. */
    public static final long SHUTDOWN_QUIET_MS = 0;
    /** Upper bound of an event-loop shutdown on close. */
    public static final long SHUTDOWN_TIMEOUT_MS = 2000;

    /** Result of the session step of a link (B50). */
    record LinkOutcome(int error, String reason, RedChannelClient client) {}

    private final ServerConfig config;
    private final MmTime mmTime = new MmTime();
    private final ChannelRegistry registry = new ChannelRegistry(this);
    private final MainChannel mainChannel;
    private final InputsChannel inputsChannel;
    private final AgentRouter agent;
    private volatile TicketVerifier ticketVerifier;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final ExecutorService keyExecutor;
    private final boolean ownKeyExecutor;
    private final ChannelGroup allChannels = new DefaultChannelGroup("spice", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger linking = new AtomicInteger();
    private final java.util.concurrent.atomic.LongAdder internalErrors = new java.util.concurrent.atomic.LongAdder();
    private final SecureRandom random = new SecureRandom();
    private final Map<Integer, Session> sessions = new HashMap<>();
    /** The class-path web content with its cache, shared by every connection; null without one. */
    private final ClasspathFiles webContent;
    private volatile Channel serverChannel;
    private volatile Channel tlsServerChannel;
    private SslContext sslContext;
    private volatile boolean closed;

    private SpiceServer(ServerConfig config, EventLoopGroup externalGroup, ExecutorService externalKeyExecutor) {
        this.config = config;
        this.webContent = config.web().webContent() == null ? null
                : new ClasspathFiles(config.web().webContent(), config.web().maxStaticFileSize());
        this.ticketVerifier = TicketVerifier.of(config.auth(), Clock.systemUTC());
        this.mainChannel = new MainChannel(this);
        this.mainChannel.attach(registry, 0);
        this.inputsChannel = new InputsChannel(config.input().sink());
        if (externalGroup != null) {
            this.group = externalGroup;
            this.ownGroup = false;
        } else {
            this.group = new MultiThreadIoEventLoopGroup(
                    Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
            this.ownGroup = true;
        }
        this.agent = new AgentRouter(group.next(), config.agent());
        this.ownKeyExecutor = externalKeyExecutor == null;
        this.keyExecutor = ownKeyExecutor ? newKeyExecutor() : externalKeyExecutor;
    }

    /**
     * The single thread that generates link keys off the event loops; several servers may share one (see {@link
     * #start(ServerConfig, EventLoopGroup, ExecutorService)}), so that threads do not grow with servers.
     */
    public static ExecutorService newKeyExecutor() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "spice-link-keygen");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts a server with its own event loops (epoll if available, else NIO); returns once listening. */
    public static SpiceServer start(ServerConfig config) {
        return start(config, null);
    }

    /**
     * Starts a server on {@code group} (null: create one). A supplied group is not shut down by
     * {@link #close()}.
     */
    public static SpiceServer start(ServerConfig config, EventLoopGroup group) {
        return start(config, group, null);
    }

    /**
     * Starts a server on {@code group} whose link keys are generated on {@code keyExecutor} (null: its own thread).
     * Neither a supplied group nor a supplied executor is shut down by {@link #close()}.
     */
    public static SpiceServer start(ServerConfig config, EventLoopGroup group, ExecutorService keyExecutor) {
        SpiceServer s = new SpiceServer(config, group, keyExecutor);
        try {
            s.bind();
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void bind() {
        registry.register(inputsChannel);
        ListenConfig l = config.listen();
        if (l.tls() != null) {
            sslContext = Listeners.sslContext(l.tls());
        }
        if (l.address() != null) {
            serverChannel = Listeners.bind(group, l.address(), ch -> accept(ch, false));
            LOG.info("{}: SPICE server listening on {} ({}, policy {}, web root {})", config.name(),
                    serverChannel.localAddress(), serverChannel.getClass().getSimpleName(), config.sessions().policy(),
                    config.web().webRoot() != null ? config.web().webRoot()
                            : webContent != null ? "classpath:" + config.web().webContent().root() : "none");
        }
        if (sslContext != null) {
            tlsServerChannel = Listeners.bind(group, l.tls().listenAddress(), ch -> accept(ch, true));
            LOG.info("{}: SPICE TLS listening on {} (client certificates {}, secure channels {})", config.name(),
                    tlsServerChannel.localAddress(), l.tls().clientCa() == null ? "not asked" : "required",
                    l.secureChannels());
        }
    }

    private void accept(SocketChannel ch, boolean tls) {
        if (closed) {
            ch.close();
            return;
        }
        if (!reserveLinking(ch)) {
            ch.close();
            return;
        }
        allChannels.add(ch);
        if (tls) {
            ch.pipeline().addLast("tls", sslContext.newHandler(ch.alloc()));
        }
        ch.pipeline().addLast("sniff", new ProtocolSniffer(config.web(), webContent, tls));
        ch.pipeline().addLast("link", new LinkHandler(this, tls, false));
    }

    /**
     * Reserves a linking slot without ever counting past the bound (a refused connection is never counted, so
     * linkingConnections() <= maxLinkingConnections at every instant).
     */
    private boolean reserveLinking(Channel ch) {
        int n;
        do {
            n = linking.get();
            if (n >= config.link().maxLinkingConnections()) {
                LOG.warn("{}: refusing connection from {}: {} connections already linking", config.name(), ch.remoteAddress(), n);
                return false;
            }
        } while (!linking.compareAndSet(n, n + 1));
        return true;
    }

    /**
     * Takes over a connection a front door routed here: its link stage runs after the handler named {@code after}.
     * False (and nothing added) when the server is closed or has too many connections linking.
     *
     * @param tls whether the connection came over TLS (for the secure-channel rule)
     * @param preauthorized the front door authenticated the connection already: any ticket is accepted
     */
    boolean adopt(ChannelPipeline pipeline, String after, boolean tls, boolean preauthorized) {
        Channel ch = pipeline.channel();
        if (closed || !reserveLinking(ch)) {
            return false;
        }
        allChannels.add(ch);
        pipeline.addAfter(after, "link", new LinkHandler(this, tls, preauthorized));
        return true;
    }

    /** The plain address the server listens on (the real port when configured with port 0), or null. */
    public InetSocketAddress localAddress() {
        Channel c = serverChannel;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    /** The TLS listener's address, or null when no TLS listener is configured. */
    public InetSocketAddress tlsLocalAddress() {
        Channel c = tlsServerChannel;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    public ChannelRegistry channels() {
        return registry;
    }

    public MmTime mmTime() {
        return mmTime;
    }

    public ServerConfig config() {
        return config;
    }

    /**
     * Replaces how tickets are checked from the next link on (a password rotation); connected clients stay. The
     * configuration {@link #config()} reports is not changed.
     */
    public void setAuth(AuthConfig auth) {
        ticketVerifier = TicketVerifier.of(auth, Clock.systemUTC());
        LOG.info("{}: authentication now {}", config.name(), auth);
    }

    /** Snapshot of the connected sessions. */
    public synchronized List<ClientSession> sessions() {
        return new ArrayList<>(sessions.values());
    }

    /** The guest agent's side of the main channel: a device attaches the agent's port here. */
    public AgentRouter agent() {
        return agent;
    }

    /** Current mouse mode (SpiceMessages.MOUSE_MODE_SERVER or _CLIENT). */
    public int mouseMode() {
        return mainChannel.mouseMode();
    }

    /**
     * Client connections closed because handling their input threw something other than a protocol violation
     * or an I/O error: a bug, counted so that tests and metrics see it.
     */
    public long internalErrors() {
        return internalErrors.sum();
    }

    void countInternalError() {
        internalErrors.increment();
    }

    /** Number of connections that have not finished the link stage. */
    public int linkingConnections() {
        return linking.get();
    }

    /** Sends DISCONNECTING to every client, closes every connection and releases everything. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        LOG.info("{}: SPICE server closing", config.name());
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(CLOSE_TIMEOUT_MS);
        }
        if (tlsServerChannel != null) {
            tlsServerChannel.close().awaitUninterruptibly(CLOSE_TIMEOUT_MS);
        }
        List<Session> all;
        synchronized (this) {
            all = new ArrayList<>(sessions.values());
            sessions.clear();
        }
        List<io.netty.channel.ChannelFuture> closing = new ArrayList<>();
        for (Session s : all) {
            s.deactivate();
            for (RedChannelClient c : s.clients()) {
                c.closeGracefully(SpiceLinkError.OK, "server shutdown");
                closing.add(c.nettyChannel().closeFuture());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_TIMEOUT_MS);
        for (io.netty.channel.ChannelFuture f : closing) {
            f.awaitUninterruptibly(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        // connections still linking, and any client that did not close in time
        allChannels.close().awaitUninterruptibly(CLOSE_TIMEOUT_MS);
        registry.unregisterAll();
        agent.close();
        if (ownKeyExecutor) {
            keyExecutor.shutdownNow();
        }
        if (ownGroup) {
            group.shutdownGracefully(SHUTDOWN_QUIET_MS, SHUTDOWN_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .awaitUninterruptibly(SHUTDOWN_TIMEOUT_MS + CLOSE_TIMEOUT_MS);
        }
        LOG.info("{}: SPICE server closed", config.name());
    }

    // ------------------------------------------------------------------ core

    MainChannel mainChannel() {
        return mainChannel;
    }

    TicketVerifier ticketVerifier() {
        return ticketVerifier;
    }

    ExecutorService keyExecutor() {
        return keyExecutor;
    }

    void linkingFinished() {
        linking.decrementAndGet();
    }

    synchronized int sessionCount() {
        return sessions.size();
    }

    /** The channel a link names, or null (then the connection is closed without reply, B44). */
    RedChannel linkTarget(int type, int id) {
        if (type == SpiceChannelType.MAIN) {
            return id == 0 ? mainChannel : null;
        }
        return registry.find(type, id);
    }

    /** Session step after successful authentication (B50, B51). */
    LinkOutcome completeLink(LinkMess mess, RedChannel target, Channel ch) {
        List<Session> replaced = List.of();
        RedChannelClient rcc;
        synchronized (this) {
            if (closed) {
                return new LinkOutcome(SpiceLinkError.CHANNEL_NOT_AVAILABLE, "server closing", null);
            }
            Session session;
            if (target == mainChannel) {
                if (config.sessions().policy() == SessionPolicy.REPLACE) {
                    replaced = new ArrayList<>(sessions.values());
                    sessions.clear();
                    replaced.forEach(Session::deactivate);
                } else if (sessions.size() >= config.sessions().maxSessions()) {
                    return new LinkOutcome(SpiceLinkError.ERROR, "too many sessions (" + sessions.size() + ")", null);
                }
                int id;
                do {
                    id = random.nextInt();
                } while (id == 0 || sessions.containsKey(id));
                session = new Session(id, ch.remoteAddress(), new SessionClock(mmTime, config.mmTime()));
                sessions.put(id, session);
            } else {
                session = sessions.get((int) mess.connectionId());
                if (session == null) {
                    return new LinkOutcome(SpiceLinkError.BAD_CONNECTION_ID,
                            "no session 0x" + Long.toHexString(mess.connectionId()), null);
                }
                if (target.registry() == null) {
                    return new LinkOutcome(SpiceLinkError.CHANNEL_NOT_AVAILABLE, target + " is gone", null);
                }
                if (target.clientCount() >= config.sessions().maxClientsPerChannel()) {
                    return new LinkOutcome(SpiceLinkError.CHANNEL_NOT_AVAILABLE,
                            target + " already has " + target.clientCount() + " clients", null);
                }
            }
            rcc = new RedChannelClient(this, target, session, ch, mess.miniHeader(), mess.commonCaps(), mess.channelCaps());
            session.add(rcc);
            target.addClient(rcc);
        }
        for (Session old : replaced) {
            LOG.info("{}: {} replaced by a new main link from {}", config.name(), old, ch.remoteAddress());
            List<RedChannelClient> clients = new ArrayList<>(old.clients());
            // The main connection last: its close disconnects the others (clientClosed), on their loops; each must
            // have been told why before that, or it may be closed without DISCONNECTING.
            clients.sort(Comparator.comparing(c -> c.channel() == mainChannel));
            for (RedChannelClient c : clients) {
                // told why, so that a client that reconnects by itself (the browser client) does not take it back
                c.closeGracefully(REPLACED_REASON, "session replaced by a new client");
            }
        }
        return new LinkOutcome(SpiceLinkError.OK, null, rcc);
    }

    /** Called on the rcc's loop once its connection closed. */
    void clientClosed(RedChannelClient rcc) {
        Session s = rcc.sessionInternal();
        s.remove(rcc);
        if (rcc.channel() == mainChannel) {
            synchronized (this) {
                if (sessions.get(s.id()) == s) {
                    sessions.remove(s.id());
                }
            }
            s.deactivate();
            for (RedChannelClient c : s.clients()) {
                c.disconnect("main channel of the session closed");
            }
            LOG.info("{}: {} ended", config.name(), s);
        }
    }
}
