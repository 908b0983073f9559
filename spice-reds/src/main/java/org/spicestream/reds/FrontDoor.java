package org.spicestream.reds;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.internal.web.ClasspathFiles;
import org.spicestream.reds.internal.web.ConnectionRoutes;
import org.spicestream.reds.internal.web.ProtocolSniffer;

/**
 * One listener in front of several {@link SpiceServer}s: each connection goes to the server a {@link Router}
 * chooses from its first bytes. A plain SPICE link ({@code REDQ}) goes to the default server; {@code CONNECT
 * host:port HTTP/1.x} (an HTTP proxy's tunnel, as spice-gtk's proxy support sends it) goes to the server the host
 * names and then carries that server's link; a WebSocket upgrade goes to the server its path names; other HTTP
 * requests are answered from the web root. Nothing here knows what the servers stand for.
 *
 * <p>A connection counts against {@link LinkConfig#maxLinkingConnections()} until it is routed and must be
 * routed within {@link LinkConfig#timeout()}; then the chosen server's own link bounds apply.
 */
public final class FrontDoor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FrontDoor.class);

    /** Where a routed connection goes. */
    public record Route(SpiceServer server, boolean preauthorized) {
        public Route {
            Objects.requireNonNull(server, "server");
        }

        /** To {@code server}, which checks the client's password as usual. */
        public static Route to(SpiceServer server) {
            return server == null ? null : new Route(server, false);
        }
    }

    /** Chooses the server of a connection; called on the connection's event loop, so it must be quick. */
    public interface Router {
        /** Where a plain SPICE link goes, or null (closed without reply). */
        Route spice();

        /** Where {@code CONNECT host:port} goes ({@code host} in lower case, IPv6 without brackets), or null (404). */
        Route connect(String host, int port);

        /** Where a WebSocket upgrade to {@code path} (without query) goes, or null (404). */
        Route webSocket(String path);
    }

    /**
     * The front door's listeners and bounds.
     *
     * @param listen plain address and optional TLS listener; its secure channels are ignored (each server has its own)
     * @param link bound and timeout of connections not yet routed
     * @param web the HTTP side: request bounds, WebSocket frames, allowed origins, the web root for other requests
     */
    public record Config(ListenConfig listen, LinkConfig link, WebConfig web) {
        public Config {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(link, "link");
            Objects.requireNonNull(web, "web");
            if (!listen.listens()) {
                throw new IllegalArgumentException("a front door needs a listen address");
            }
        }
    }

    private final Config config;
    private final Router router;
    private final EventLoopGroup group;
    private final AtomicInteger pending = new AtomicInteger();
    private final ChannelGroup unrouted = new DefaultChannelGroup("front-door", GlobalEventExecutor.INSTANCE);
    private final ClasspathFiles webContent;
    private SslContext sslContext;
    private volatile Channel plain;
    private volatile Channel tlsChannel;
    private volatile boolean closed;

    private FrontDoor(Config config, Router router, EventLoopGroup group) {
        this.config = config;
        this.router = router;
        this.group = group;
        this.webContent = config.web().webContent() == null ? null
                : new ClasspathFiles(config.web().webContent(), config.web().maxStaticFileSize());
    }

    /** Listens on {@code group} (not shut down by {@link #close()}); returns once listening. */
    public static FrontDoor start(Config config, Router router, EventLoopGroup group) {
        FrontDoor door = new FrontDoor(config, Objects.requireNonNull(router, "router"), group);
        try {
            door.bind();
        } catch (RuntimeException e) {
            door.close();
            throw e;
        }
        return door;
    }

    private void bind() {
        ListenConfig l = config.listen();
        if (l.tls() != null) {
            sslContext = Listeners.sslContext(l.tls());
        }
        if (l.address() != null) {
            plain = Listeners.bind(group, l.address(), ch -> accept(ch, false));
            LOG.info("front door listening on {}", plain.localAddress());
        }
        if (sslContext != null) {
            tlsChannel = Listeners.bind(group, l.tls().listenAddress(), ch -> accept(ch, true));
            LOG.info("front door TLS listening on {}", tlsChannel.localAddress());
        }
    }

    private void accept(SocketChannel ch, boolean tls) {
        if (closed) {
            ch.close();
            return;
        }
        int n;
        do {
            n = pending.get();
            if (n >= config.link().maxLinkingConnections()) {
                LOG.warn("refusing connection from {}: {} connections not routed yet", ch.remoteAddress(), n);
                ch.close();
                return;
            }
        } while (!pending.compareAndSet(n, n + 1));
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                pending.decrementAndGet();
                unrouted.remove(ch);
            }
        };
        unrouted.add(ch);
        ch.closeFuture().addListener(f -> release.run());
        ch.eventLoop().schedule(() -> {
            if (!released.get() && ch.isActive()) {
                LOG.info("connection from {}: not routed within {} ms, closing", ch.remoteAddress(),
                        config.link().timeout().toMillis());
                ch.close();
            }
        }, config.link().timeout().toNanos(), TimeUnit.NANOSECONDS);
        if (tls) {
            ch.pipeline().addLast("tls", sslContext.newHandler(ch.alloc()));
        }
        ch.pipeline().addLast("sniff", new ProtocolSniffer(config.web(), webContent, tls, new Routes(tls, release)));
    }

    /** Turns the router's answers into pipeline hand-overs. */
    private final class Routes implements ConnectionRoutes {
        private final boolean tls;
        private final Runnable release;

        Routes(boolean tls, Runnable release) {
            this.tls = tls;
            this.release = release;
        }

        @Override
        public Attach spice() {
            return attach(router.spice());
        }

        @Override
        public Attach webSocket(String path) {
            return attach(router.webSocket(path));
        }

        @Override
        public boolean connectAllowed() {
            return true;
        }

        @Override
        public Attach connect(String host, int port) {
            return attach(router.connect(host, port));
        }

        private Attach attach(Route route) {
            if (route == null) {
                return null;
            }
            return (ChannelPipeline pipeline, String after) -> {
                release.run();
                return route.server().adopt(pipeline, after, tls, route.preauthorized());
            };
        }
    }

    /** The plain address (the real port when configured with port 0), or null. */
    public InetSocketAddress localAddress() {
        Channel c = plain;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    /** The TLS address, or null. */
    public InetSocketAddress tlsLocalAddress() {
        Channel c = tlsChannel;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    /** Connections accepted and not routed yet. */
    public int pendingConnections() {
        return pending.get();
    }

    /** Stops listening and closes connections not routed yet; routed ones belong to their server. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Channel c : new Channel[] {plain, tlsChannel}) {
            if (c != null) {
                c.close().awaitUninterruptibly(SpiceServer.CLOSE_TIMEOUT_MS);
            }
        }
        unrouted.close().awaitUninterruptibly(SpiceServer.CLOSE_TIMEOUT_MS);
        LOG.info("front door closed");
    }
}
