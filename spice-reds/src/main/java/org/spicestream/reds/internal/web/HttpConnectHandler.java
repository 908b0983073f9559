package org.spicestream.reds.internal.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.WebConfig;

/**
 * An HTTP CONNECT request on a shared SPICE port ({@code CONNECT host:port HTTP/1.0} as spice-gtk's proxy support
 * and HTTP proxies send it): the host names the server the tunnel goes to. After {@code 200 Connection established}
 * the connection carries that server's SPICE link; bytes the client sent after the request head go on unchanged.
 * The head (request line and headers) must arrive within the request timeout and fit the line and header bounds.
 */
final class HttpConnectHandler extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(HttpConnectHandler.class);

    /** {@code CONNECT authority HTTP/1.x}; the authority is {@code host:port} or {@code [v6]:port}. */
    private static final Pattern REQUEST_LINE =
            Pattern.compile("CONNECT (\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]/@]+):(\\d{1,5}) (HTTP/1\\.[01])");
    private static final byte[] END_OF_HEAD = {'\r', '\n', '\r', '\n'};

    private final WebConfig settings;
    private final ConnectionRoutes routes;
    private ScheduledFuture<?> timeout;
    private boolean done;

    HttpConnectHandler(WebConfig settings, ConnectionRoutes routes) {
        this.settings = settings;
        this.routes = routes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            if (!done && ctx.channel().isActive()) {
                LOG.info("CONNECT from {}: no complete request within {} ms, closing", ctx.channel().remoteAddress(),
                        settings.requestTimeout().toMillis());
                done = true;
                ctx.close();
            }
        }, settings.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (done) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int max = settings.maxInitialLine() + settings.maxHeaderSize();
        int end = endOfHead(in, max);
        if (end < 0) {
            if (in.readableBytes() > max) {
                fail(ctx, in, "HTTP/1.1", 431, "Request Header Fields Too Large", "request head above " + max + " bytes");
            }
            return;
        }
        int headLength = end - in.readerIndex();
        if (headLength > max) {
            fail(ctx, in, "HTTP/1.1", 431, "Request Header Fields Too Large", "request head above " + max + " bytes");
            return;
        }
        String head = in.toString(in.readerIndex(), headLength, StandardCharsets.ISO_8859_1);
        in.skipBytes(headLength);
        int eol = head.indexOf("\r\n");
        String requestLine = head.substring(0, eol);
        Matcher m = REQUEST_LINE.matcher(requestLine);
        if (requestLine.length() > settings.maxInitialLine() || !m.matches()) {
            fail(ctx, in, "HTTP/1.1", 400, "Bad Request", "not a CONNECT request line: "
                    + requestLine.substring(0, Math.min(requestLine.length(), 120)));
            return;
        }
        String host = m.group(1);
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        host = host.toLowerCase(Locale.ROOT);
        int port = Integer.parseInt(m.group(2));
        String version = m.group(3);
        if (port > 0xffff) {
            fail(ctx, in, version, 400, "Bad Request", "port " + port);
            return;
        }
        ConnectionRoutes.Attach target = routes.connect(host, port);
        if (target == null) {
            fail(ctx, in, version, 404, "Not Found", "nothing named " + host);
            return;
        }
        done = true;
        LOG.info("CONNECT from {} to {}:{}", ctx.channel().remoteAddress(), host, port);
        ctx.writeAndFlush(Unpooled.copiedBuffer(version + " 200 Connection established\r\n\r\n",
                StandardCharsets.US_ASCII));
        if (!target.after(ctx.pipeline(), ctx.name())) {
            in.skipBytes(in.readableBytes());
            ctx.close();
            return;
        }
        // bytes after the head (a client that did not wait for the answer) go on to the link handler
        ctx.pipeline().remove(this);
    }

    /** The index just after the first CRLFCRLF among the first {@code max} readable bytes, or -1. */
    private static int endOfHead(ByteBuf in, int max) {
        int from = in.readerIndex();
        int to = from + Math.min(in.readableBytes(), max + END_OF_HEAD.length);
        for (int i = from; i + END_OF_HEAD.length <= to; i++) {
            if (in.getByte(i) == '\r' && in.getByte(i + 1) == '\n' && in.getByte(i + 2) == '\r'
                    && in.getByte(i + 3) == '\n') {
                return i + END_OF_HEAD.length;
            }
        }
        return -1;
    }

    /**
     * Answers with an error status and closes after the client read it (output shut down first, input discarded
     * for {@link HttpRequestHandler#ERROR_LINGER_MS}, as for the other HTTP errors).
     */
    private void fail(ChannelHandlerContext ctx, ByteBuf in, String version, int status, String reason, String why) {
        done = true;
        in.skipBytes(in.readableBytes());
        LOG.info("CONNECT from {} refused ({}): {}", ctx.channel().remoteAddress(), status, why);
        String body = status + " " + reason + "\r\n";
        String response = version + " " + status + " " + reason + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
        ctx.writeAndFlush(Unpooled.copiedBuffer(response, StandardCharsets.US_ASCII))
                .addListener(HttpRequestHandler.LINGER_THEN_CLOSE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.info("CONNECT from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
