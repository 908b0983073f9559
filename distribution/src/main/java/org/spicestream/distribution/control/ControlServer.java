package org.spicestream.distribution.control;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.distribution.Settings;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.distribution.vm.Vm;
import org.spicestream.distribution.vm.VmRegistry;
import org.spicestream.reds.AuthConfig;

/**
 * The control API: HTTP/1.1 with JSON bodies on a Unix socket (created 0600) or a loopback port, optionally behind
 * a bearer token.
 *
 * <pre>
 * GET    /v1/vms                 200 [{name, listen, tlsListen, devices, clients, sessionPolicy, auth, stream, displays}]
 * GET    /v1/vms/NAME            200 {...} | 404
 * PUT    /v1/vms/NAME            body: a VM definition ({@link VmDefinition}) → 201 created | 200 replaced | 400
 * DELETE /v1/vms/NAME            204 | 404
 * POST   /v1/vms/NAME/password  body: {password | passwordFile | disableTicketing, passwordExpiry} → 204 | 400 | 404
 * </pre>
 *
 * Errors are {@code {"error": "message"}}; a refused request changes nothing. Requests run one at a time on one
 * thread of their own (starting a VM waits for its devices on the event loops).
 */
public final class ControlServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    /** API prefix. */
    public static final String PREFIX = "/v1/vms";
    /** Bound of a request line. */
    public static final int MAX_INITIAL_LINE = 4096;
    /** Bound of the request headers. */
    public static final int MAX_HEADER_SIZE = 8192;
    /** A connection that sends nothing for this long is closed. */
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** How long a connection whose request was too large stays half-closed, its input discarded. */
    public static final Duration ERROR_LINGER = Duration.ofSeconds(2);
    /** Connections served at once. */
    public static final int MAX_CONNECTIONS = 16;
    /** Longest a request may wait for the request before it (a queue of VM starts). */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final ControlAddress address;
    private final VmRegistry vms;
    private final VmLimits defaults;
    private final byte[] token;
    private final Clock clock;
    private final ExecutorService worker;
    private final AtomicInteger connections = new AtomicInteger();
    private Channel channel;
    private Path socketPath;

    private ControlServer(ControlAddress address, VmRegistry vms, VmLimits defaults, String token, Clock clock) {
        this.address = address;
        this.vms = vms;
        this.defaults = defaults;
        this.token = token == null ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        this.clock = clock;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "spice-streamd-control");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Listens on {@code host.control()}.
     *
     * @throws IllegalStateException when it cannot listen
     */
    public static ControlServer start(Settings.Host host, VmRegistry vms, VmLimits defaults, EventLoopGroup group) {
        ControlServer s = new ControlServer(ControlAddress.parse(host.control()), vms, defaults, host.controlToken(),
                Clock.systemUTC());
        try {
            s.bind(group);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void bind(EventLoopGroup group) {
        boolean epoll = Epoll.isAvailable() && group instanceof IoEventLoopGroup io && io.isIoType(EpollIoHandler.class);
        boolean unix = address.socket() != null;
        Class<? extends ServerChannel> type = unix
                ? (epoll ? EpollServerDomainSocketChannel.class : NioServerDomainSocketChannel.class)
                : (epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class);
        SocketAddress bindTo;
        Path staging = null;
        if (unix) {
            // bind in a private directory, restrict the socket to its owner, then move it into place: no moment
            // in which another user could connect
            try {
                Files.createDirectories(address.socket().getParent());
                staging = Files.createTempDirectory(address.socket().getParent(), ".control-");
                Path tmp = staging.resolve("s");
                bindTo = epoll ? new DomainSocketAddress(tmp.toString()) : UnixDomainSocketAddress.of(tmp);
            } catch (IOException e) {
                throw new IllegalStateException("cannot prepare the control socket " + address + ": " + e.getMessage(), e);
            }
        } else {
            bindTo = address.tcp().toSocketAddress();
        }
        ServerBootstrap b = new ServerBootstrap().group(group).channel(type).childHandler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                    connections.decrementAndGet();
                    LOG.warn("control API: more than {} connections, refusing one", MAX_CONNECTIONS);
                    ch.close();
                    return;
                }
                ch.closeFuture().addListener(f -> connections.decrementAndGet());
                ch.pipeline().addLast(new IdleStateHandler(0, 0, IDLE_TIMEOUT.toSeconds(), TimeUnit.SECONDS),
                        new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_SIZE, 8192),
                        new BoundedAggregator(),
                        new Handler());
            }
        });
        try {
            channel = b.bind(bindTo).sync().channel();
            if (unix) {
                Path tmp = staging.resolve("s");
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                Files.deleteIfExists(address.socket());
                Files.move(tmp, address.socket(), StandardCopyOption.ATOMIC_MOVE);
                socketPath = address.socket();
                Files.deleteIfExists(staging);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding the control API", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot place the control socket at " + address + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot serve the control API on " + address + ": " + e.getMessage(), e);
        } finally {
            if (staging != null) {
                try {
                    Files.deleteIfExists(staging.resolve("s"));
                    Files.deleteIfExists(staging);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
        LOG.info("control API on {}{}", address(), token == null ? "" : " (bearer token required)");
    }

    /** Where it listens: {@code unix:/path} or {@code HOST:PORT} (the real port). */
    public String address() {
        if (address.socket() != null) {
            return address.toString();
        }
        InetSocketAddress a = (InetSocketAddress) channel.localAddress();
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(2000);
        }
        worker.shutdownNow();
        if (socketPath != null) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                LOG.debug("cannot remove {}: {}", socketPath, e.toString());
            }
        }
    }

    /** An over-long body gets a 400 with a JSON message like every other bad request. */
    private static final class BoundedAggregator extends HttpObjectAggregator {
        BoundedAggregator() {
            super(ControlJson.MAX_BODY_BYTES);
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            LOG.info("control API: request body above {} bytes", ControlJson.MAX_BODY_BYTES);
            FullHttpResponse r = json(HttpResponseStatus.BAD_REQUEST,
                    error("body larger than " + ControlJson.MAX_BODY_BYTES + " bytes"));
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            HttpUtil.setContentLength(r, r.content().readableBytes());
            // half-close and linger: closing with the rest of the body unread would reset the connection and could
            // destroy the answer before the client reads it
            ctx.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess() && f.channel() instanceof io.netty.channel.socket.DuplexChannel duplex) {
                    duplex.shutdownOutput();
                    f.channel().eventLoop().schedule(() -> {
                        f.channel().close();
                    }, ERROR_LINGER.toMillis(), TimeUnit.MILLISECONDS);
                } else {
                    f.channel().close();
                }
            });
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, json(HttpResponseStatus.BAD_REQUEST, error("malformed request")), false);
                return;
            }
            if (token != null) {
                String given = req.headers().get(HttpHeaderNames.AUTHORIZATION, "");
                if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token)) {
                    FullHttpResponse r = json(HttpResponseStatus.UNAUTHORIZED, error("bearer token required"));
                    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
                    respond(ctx, r, keepAlive);
                    return;
                }
            }
            HttpMethod method = req.method();
            String path = new QueryStringDecoder(req.uri()).path();
            byte[] body = ByteBufUtil.getBytes(req.content());
            try {
                worker.execute(() -> {
                    FullHttpResponse r;
                    try {
                        r = handle(method, path, body);
                    } catch (RuntimeException e) {
                        LOG.warn("control API: {} {} failed", method, path, e);
                        r = json(HttpResponseStatus.INTERNAL_SERVER_ERROR, error(e.toString()));
                    }
                    respond(ctx, r, keepAlive);
                });
            } catch (RejectedExecutionException e) {
                respond(ctx, json(HttpResponseStatus.SERVICE_UNAVAILABLE, error("shutting down")), false);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("control API connection: {}", cause.toString());
            ctx.close();
        }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
        if (!HttpResponseStatus.NO_CONTENT.equals(r.status())) {
            HttpUtil.setContentLength(r, r.content().readableBytes());
        }
        if (keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(r);
        } else {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            HttpUtil.setContentLength(r, r.content().readableBytes());
            // half-close and linger: closing with the rest of the body unread would reset the connection and could
            // destroy the answer before the client reads it
            ctx.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess() && f.channel() instanceof io.netty.channel.socket.DuplexChannel duplex) {
                    duplex.shutdownOutput();
                    f.channel().eventLoop().schedule(() -> {
                        f.channel().close();
                    }, ERROR_LINGER.toMillis(), TimeUnit.MILLISECONDS);
                } else {
                    f.channel().close();
                }
            });
        }
    }

    /** One request, on the worker thread. */
    FullHttpResponse handle(HttpMethod method, String path, byte[] body) {
        if (!path.equals(PREFIX) && !path.startsWith(PREFIX + "/")) {
            return json(HttpResponseStatus.NOT_FOUND, error("no such resource: " + path));
        }
        String[] parts = path.substring(PREFIX.length()).split("/", -1);
        // "" → collection; ["", name] → one VM; ["", name, "password"]
        if (parts.length == 1) {
            if (!HttpMethod.GET.equals(method)) {
                return methodNotAllowed("GET");
            }
            return json(HttpResponseStatus.OK, vms.list().stream().map(ControlServer::view).toList());
        }
        String name = parts[1];
        if (!VmConfig.NAME_PATTERN.matcher(name).matches()) {
            return json(HttpResponseStatus.BAD_REQUEST, error("bad VM name '" + name + "'"));
        }
        if (parts.length == 3 && parts[2].equals("password")) {
            if (!HttpMethod.POST.equals(method)) {
                return methodNotAllowed("POST");
            }
            return password(name, body);
        }
        if (parts.length != 2) {
            return json(HttpResponseStatus.NOT_FOUND, error("no such resource: " + path));
        }
        if (HttpMethod.GET.equals(method)) {
            return vms.get(name).map(vm -> json(HttpResponseStatus.OK, view(vm)))
                    .orElseGet(() -> json(HttpResponseStatus.NOT_FOUND, error("no VM " + name)));
        }
        if (HttpMethod.PUT.equals(method)) {
            return put(name, body);
        }
        if (HttpMethod.DELETE.equals(method)) {
            return vms.remove(name) ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT)
                    : json(HttpResponseStatus.NOT_FOUND, error("no VM " + name));
        }
        return methodNotAllowed("GET, PUT, DELETE");
    }

    private FullHttpResponse put(String name, byte[] body) {
        VmConfig config;
        try {
            config = VmDefinition.parse(name, ControlJson.object(body), defaults, clock);
        } catch (IllegalArgumentException e) {
            return json(HttpResponseStatus.BAD_REQUEST, error(e.getMessage()));
        }
        try {
            VmRegistry.PutResult result = vms.put(config);
            Vm vm = vms.get(name).orElseThrow();
            return json(result == VmRegistry.PutResult.CREATED ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                    view(vm));
        } catch (IllegalArgumentException | IllegalStateException e) {
            return json(HttpResponseStatus.BAD_REQUEST, error(rootMessage(e)));
        }
    }

    private FullHttpResponse password(String name, byte[] body) {
        AuthConfig auth;
        try {
            Map<String, Object> fields = ControlJson.object(body);
            for (String k : fields.keySet()) {
                if (!List.of("password", "passwordFile", "passwordExpiry", "disableTicketing").contains(k)) {
                    throw new IllegalArgumentException("unknown key '" + k + "'");
                }
            }
            auth = VmDefinition.auth(fields, clock);
        } catch (IllegalArgumentException e) {
            return json(HttpResponseStatus.BAD_REQUEST, error(e.getMessage()));
        }
        return vms.setAuth(name, auth) ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT)
                : json(HttpResponseStatus.NOT_FOUND, error("no VM " + name));
    }

    /** What the API shows of a VM (never its password). */
    static Map<String, Object> view(Vm vm) {
        VmConfig c = vm.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", vm.name());
        m.put("listen", vm.server().localAddress() == null ? null : hostPort(vm.server().localAddress()));
        m.put("tlsListen", vm.server().tlsLocalAddress() == null ? null : hostPort(vm.server().tlsLocalAddress()));
        m.put("devices", vm.deviceUris().stream().map(Object::toString).toList());
        m.put("clients", vm.server().sessions().size());
        m.put("sessionPolicy", c.sessionPolicy().name().toLowerCase(java.util.Locale.ROOT));
        String auth = "none";
        if (c.auth() instanceof AuthConfig.Password p) {
            auth = p.expiry() == null ? "password" : "password until " + p.expiry();
        } else if (c.auth() instanceof AuthConfig.TicketingDisabled) {
            auth = "disabled";
        }
        m.put("auth", auth);
        m.put("agent", c.agent().port() == null ? null : Map.of("port", c.agent().port().toString(),
                "attached", vm.server().agent().isAttached(), "viewers", vm.server().agent().agentClients(),
                "copyPaste", c.agent().copyPaste()));
        List<Vm.Display> displays = vm.displays();
        List<Map<String, Object>> shown = displays.stream().map(ControlServer::display).toList();
        m.put("stream", shown.isEmpty() ? null : stream(displays.get(0)));
        m.put("displays", shown);
        return m;
    }

    private static Map<String, Object> stream(Vm.Display d) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("codec", d.codec());
        s.put("width", d.width());
        s.put("height", d.height());
        return s;
    }

    private static Map<String, Object> display(Vm.Display d) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("device", d.device());
        s.putAll(stream(d));
        s.put("clients", d.clients());
        return s;
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String rootMessage(Throwable e) {
        String msg = e.getMessage();
        for (Throwable t = e.getCause(); msg == null && t != null; t = t.getCause()) {
            msg = t.getMessage();
        }
        return msg == null ? e.toString() : msg;
    }

    private static FullHttpResponse methodNotAllowed(String allow) {
        FullHttpResponse r = json(HttpResponseStatus.METHOD_NOT_ALLOWED, error("method not allowed; allowed: " + allow));
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return r;
    }

    static Map<String, Object> error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        return m;
    }

    static FullHttpResponse json(HttpResponseStatus status, Object value) {
        ByteBuf body = Unpooled.copiedBuffer(ControlJson.write(value) + "\n", StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
        return r;
    }
}
