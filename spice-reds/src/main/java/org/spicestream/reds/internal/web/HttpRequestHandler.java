package org.spicestream.reds.internal.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.spicestream.reds.WebConfig;
import org.slf4j.LoggerFactory;

/**
 * One HTTP request on a SPICE port: a WebSocket upgrade (then SPICE bytes in binary frames, spice-wire §2)
 * or a GET/HEAD of a static file below the web root. Every plain HTTP answer closes the connection. The
 * request must be complete within the request timeout.
 */
final class HttpRequestHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HttpRequestHandler.class);

    /** The only WebSocket sub-protocol accepted (what spice-html5 asks for). */
    static final String SUBPROTOCOL = "binary";
    /** Name of the WebSocket adapter in the pipeline. */
    static final String WS_ADAPTER = "ws-bytes";
    /**
     * A page of one VM: {@code /vms/NAME/...} serves the class-path content's {@code ...}, so that the built-in
     * client, whose URLs are relative, works below that prefix and opens its WebSocket at {@code /vms/NAME}.
     */
    static final Pattern VM_PAGE = Pattern.compile("/vms/([a-z0-9][a-z0-9-]{0,62})(/.*)?");
    /** Content-Security-Policy of the class-path content (the built-in client needs nothing from elsewhere). */
    static final String BUILT_IN_CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
            + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
    /** How long a connection that got an HTTP error stays half-closed, its input discarded, before it is closed. */
    static final long ERROR_LINGER_MS = 2000;

    private final WebConfig settings;
    private final ClasspathFiles webContent;
    private final boolean tls;
    private final ConnectionRoutes routes;
    private ScheduledFuture<?> timeout;
    private boolean requestSeen;

    HttpRequestHandler(WebConfig settings, ClasspathFiles webContent, boolean tls, ConnectionRoutes routes) {
        this.settings = settings;
        this.webContent = webContent;
        this.tls = tls;
        this.routes = routes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (!requestSeen && ctx.channel().isActive()) {
                LOG.info("HTTP from {}: no complete request within {} ms, closing", ctx.channel().remoteAddress(),
                        settings.requestTimeout().toMillis());
                ctx.close();
            }
        }, settings.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimeout();
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req) || requestSeen) {
            // a second request on the same connection: we answer one request per connection
            ReferenceCountUtil.release(msg);
            return;
        }
        requestSeen = true;
        cancelTimeout();
        try {
            handle(ctx, req);
        } finally {
            req.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongHttpLineException
                            ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                            : cause instanceof TooLongFrameException
                                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                                    : HttpResponseStatus.BAD_REQUEST;
            LOG.info("HTTP from {}: bad request ({})", ctx.channel().remoteAddress(), cause.toString());
            sendError(ctx, status);
            return;
        }
        if (req.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            upgrade(ctx, req);
        } else {
            serveFile(ctx, req);
        }
    }

    private void upgrade(ChannelHandlerContext ctx, FullHttpRequest req) {
        Object remote = ctx.channel().remoteAddress();
        if (!HttpMethod.GET.equals(req.method())) {
            sendError(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
            return;
        }
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (!settings.allowedOrigins().isEmpty() && (origin == null || !settings.allowedOrigins().contains(origin))) {
            LOG.info("WebSocket from {}: origin {} not allowed", remote, origin);
            sendError(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        String protocols = req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (protocols != null && Arrays.stream(protocols.split(",")).map(String::strip).noneMatch(SUBPROTOCOL::equals)) {
            // spice-wire §2: any protocol other than "binary" is refused
            LOG.info("WebSocket from {}: sub-protocol {} refused", remote, protocols);
            sendError(ctx, HttpResponseStatus.BAD_REQUEST);
            return;
        }
        String path;
        try {
            path = new QueryStringDecoder(req.uri()).path();
        } catch (IllegalArgumentException e) {
            sendError(ctx, HttpResponseStatus.BAD_REQUEST);
            return;
        }
        ConnectionRoutes.Attach target = routes.webSocket(path);
        if (target == null) {
            LOG.info("WebSocket from {}: nothing at {}", remote, path);
            sendError(ctx, HttpResponseStatus.NOT_FOUND);
            return;
        }
        WebSocketDecoderConfig decoderConfig = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(settings.maxWebSocketFrameSize())
                .expectMaskedFrames(true)
                .allowExtensions(false)
                .closeOnProtocolViolation(true)
                .build();
        String host = req.headers().get(HttpHeaderNames.HOST, "localhost");
        WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory(
                (tls ? "wss://" : "ws://") + host + req.uri(), SUBPROTOCOL, decoderConfig);
        WebSocketServerHandshaker handshaker = factory.newHandshaker(req);
        if (handshaker == null) {
            LOG.info("WebSocket from {}: unsupported version {}", remote, req.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION));
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel()).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        handshaker.handshake(ctx.channel(), req).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                LOG.info("WebSocket from {}: handshake failed: {}", remote, f.cause().toString());
                f.channel().close();
            }
        });
        LOG.info("WebSocket from {} to {} (origin {}, {})", remote, path, origin, tls ? "TLS" : "plain");
        ctx.pipeline().replace(this, WS_ADAPTER, new WebSocketBytesAdapter(handshaker));
        if (!target.after(ctx.pipeline(), WS_ADAPTER)) {
            ctx.close();
        }
    }

    private void serveFile(ChannelHandlerContext ctx, FullHttpRequest req) {
        Object remote = ctx.channel().remoteAddress();
        boolean head = HttpMethod.HEAD.equals(req.method());
        if (!head && !HttpMethod.GET.equals(req.method())) {
            sendError(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
            return;
        }
        if (settings.webRoot() == null && webContent == null) {
            LOG.info("HTTP from {}: {} {}: no web root configured", remote, req.method(), req.uri());
            sendError(ctx, HttpResponseStatus.NOT_FOUND);
            return;
        }
        QueryStringDecoder uri;
        String path;
        try {
            uri = new QueryStringDecoder(req.uri());
            path = uri.path();
        } catch (IllegalArgumentException e) {
            sendError(ctx, HttpResponseStatus.BAD_REQUEST);
            return;
        }
        if (settings.webRoot() != null) {
            serveFromWebRoot(ctx, req, path, head);
            return;
        }
        Matcher vm = VM_PAGE.matcher(path);
        if (vm.matches()) {
            if (vm.group(2) == null) {
                // the page's relative URLs (js/app.js) need the trailing slash
                String query = uri.rawQuery();
                redirect(ctx, "/vms/" + vm.group(1) + "/" + (query.isEmpty() ? "" : "?" + query));
                return;
            }
            path = vm.group(2);
        }
        serveFromClasspath(ctx, req, path, head);
    }

    private void serveFromWebRoot(ChannelHandlerContext ctx, FullHttpRequest req, String path, boolean head) {
        Object remote = ctx.channel().remoteAddress();
        StaticFiles.Lookup lookup = StaticFiles.resolve(settings.webRoot(), path);
        if (lookup instanceof StaticFiles.Refused refused) {
            LOG.warn("HTTP from {}: {} refused: {}", remote, req.uri(), refused.why());
            sendError(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        if (!(lookup instanceof StaticFiles.Found found)) {
            LOG.info("HTTP from {}: {} not found", remote, req.uri());
            sendError(ctx, HttpResponseStatus.NOT_FOUND);
            return;
        }
        if (found.size() > settings.maxStaticFileSize()) {
            LOG.warn("HTTP from {}: {} is {} bytes, above the bound of {}", remote, req.uri(), found.size(), settings.maxStaticFileSize());
            sendError(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        ByteBuf body = Unpooled.EMPTY_BUFFER;
        if (!head) {
            // bounded by maxFileSize; read on the event loop (small, local files)
            body = ctx.alloc().buffer((int) found.size());
            try (FileChannel fc = FileChannel.open(found.file(), StandardOpenOption.READ)) {
                long pos = 0;
                while (body.isWritable()) {
                    int n = body.writeBytes(fc, pos, body.writableBytes());
                    if (n < 0) {
                        break;
                    }
                    pos += n;
                }
            } catch (IOException e) {
                body.release();
                LOG.warn("HTTP from {}: reading {} failed: {}", remote, found.file(), e.toString());
                sendError(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR);
                return;
            }
        }
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        resp.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, StaticFiles.contentType(found.file()))
                .set(HttpHeaderNames.CONTENT_LENGTH, head ? found.size() : body.readableBytes());
        LOG.debug("HTTP from {}: {} {} -> {} ({} bytes)", remote, req.method(), req.uri(), found.file(), found.size());
        sendFile(ctx, resp);
    }

    private void serveFromClasspath(ChannelHandlerContext ctx, FullHttpRequest req, String path, boolean head) {
        Object remote = ctx.channel().remoteAddress();
        StaticFiles.PathCheck check = StaticFiles.relativePath(path);
        if (check instanceof StaticFiles.Refused refused) {
            LOG.warn("HTTP from {}: {} refused: {}", remote, req.uri(), refused.why());
            sendError(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        ClasspathFiles.Lookup lookup = webContent.find(((StaticFiles.Relative) check).path());
        if (lookup instanceof ClasspathFiles.TooLarge large) {
            LOG.warn("HTTP from {}: {} is {} bytes or more, above the bound of {}", remote, req.uri(), large.size(),
                    settings.maxStaticFileSize());
            sendError(ctx, HttpResponseStatus.FORBIDDEN);
            return;
        }
        if (!(lookup instanceof ClasspathFiles.Found found)) {
            LOG.info("HTTP from {}: {} not found", remote, req.uri());
            sendError(ctx, HttpResponseStatus.NOT_FOUND);
            return;
        }
        ByteBuf body = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(found.bytes());
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
        resp.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, StaticFiles.contentType(found.name()))
                .set(HttpHeaderNames.CONTENT_LENGTH, found.bytes().length)
                // our own client: scripts, styles and connections from this origin only
                .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, BUILT_IN_CSP)
                .set("Referrer-Policy", "no-referrer");
        LOG.debug("HTTP from {}: {} {} -> classpath {} ({} bytes)", remote, req.method(), req.uri(), found.name(),
                found.bytes().length);
        sendFile(ctx, resp);
    }

    private static void sendFile(ChannelHandlerContext ctx, FullHttpResponse resp) {
        resp.headers()
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .set("X-Content-Type-Options", "nosniff")
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    }

    private static void redirect(ChannelHandlerContext ctx, String location) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.MOVED_PERMANENTLY,
                Unpooled.EMPTY_BUFFER);
        resp.headers()
                .set(HttpHeaderNames.LOCATION, location)
                .set(HttpHeaderNames.CONTENT_LENGTH, 0)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Answers with an error and closes. The output is shut down first and the close comes after
     * {@link #ERROR_LINGER_MS} (or the client's own close): closing with unread request bytes would make the
     * kernel send a reset that can destroy the answer before the client reads it.
     */
    static void sendError(ChannelHandlerContext ctx, HttpResponseStatus status) {
        ByteBuf body = Unpooled.copiedBuffer(status + "\r\n", StandardCharsets.UTF_8);
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        resp.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(resp).addListener(LINGER_THEN_CLOSE);
    }

    /**
     * After an error answer: shut the output down and close after {@link #ERROR_LINGER_MS} (or the client's own
     * close), reading and discarding meanwhile, so unread request bytes do not make the kernel reset the answer away.
     */
    static final ChannelFutureListener LINGER_THEN_CLOSE = f -> {
        if (f.isSuccess() && f.channel() instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
            f.channel().eventLoop().schedule(() -> {
                f.channel().close();
            }, ERROR_LINGER_MS, TimeUnit.MILLISECONDS);
        } else {
            f.channel().close();
        }
    };

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.info("HTTP from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
