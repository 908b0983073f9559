package org.spicestream.reds.internal.web;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.List;
import org.slf4j.Logger;
import org.spicestream.reds.WebConfig;
import org.slf4j.LoggerFactory;

/**
 * First handler of a SPICE connection (B44, spice-wire §2): looks at the first 4 bytes. "GET " or "HEAD"
 * turn the connection into HTTP (WebSocket upgrade or a static file); "CONN" where the routes answer HTTP
 * CONNECT becomes a tunnel; anything else, "REDQ" included, goes on to the link handler the routes choose, which
 * answers a bad magic with INVALID_MAGIC. The bytes read are passed on unchanged in every case.
 */
public final class ProtocolSniffer extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(ProtocolSniffer.class);

    /** Bytes needed to decide. */
    static final int SNIFF_BYTES = 4;
    /** An HTTP request has no body here (GET/HEAD); a request announcing one is refused (413). */
    static final int MAX_HTTP_BODY = 0;
    private static final int GET = 0x47455420; // "GET "
    private static final int HEAD = 0x48454144; // "HEAD"
    private static final int CONN = 0x434f4e4e; // "CONN"

    /** Name of the HTTP codec in the pipeline. */
    public static final String HTTP_CODEC = "http-codec";
    /** Name of the HTTP aggregator in the pipeline. */
    public static final String HTTP_AGGREGATOR = "http-aggregator";
    /** Name of the HTTP request handler (later the WebSocket adapter) in the pipeline. */
    public static final String WEB_HANDLER = "web";

    private final WebConfig settings;
    private final ClasspathFiles webContent;
    private final boolean tls;
    private final ConnectionRoutes routes;

    /** For a server's own listener ({@link ConnectionRoutes#SELF}); {@code webContent}: the server's class-path
     * content (one cache for all connections), or null. */
    public ProtocolSniffer(WebConfig settings, ClasspathFiles webContent, boolean tls) {
        this(settings, webContent, tls, ConnectionRoutes.SELF);
    }

    public ProtocolSniffer(WebConfig settings, ClasspathFiles webContent, boolean tls, ConnectionRoutes routes) {
        this.settings = settings;
        this.webContent = webContent;
        this.tls = tls;
        this.routes = routes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < SNIFF_BYTES) {
            return;
        }
        int first = in.getInt(in.readerIndex());
        if (first == GET || first == HEAD) {
            LOG.debug("connection from {}: HTTP request", ctx.channel().remoteAddress());
            HttpDecoderConfig decoderConfig = new HttpDecoderConfig()
                    .setMaxInitialLineLength(settings.maxInitialLine())
                    .setMaxHeaderSize(settings.maxHeaderSize());
            String self = ctx.name();
            ctx.pipeline().addAfter(self, HTTP_CODEC, new HttpServerCodec(decoderConfig));
            ctx.pipeline().addAfter(HTTP_CODEC, HTTP_AGGREGATOR, new HttpObjectAggregator(MAX_HTTP_BODY));
            ctx.pipeline().addAfter(HTTP_AGGREGATOR, WEB_HANDLER, new HttpRequestHandler(settings, webContent, tls, routes));
        } else if (first == CONN && routes.connectAllowed()) {
            LOG.debug("connection from {}: HTTP CONNECT", ctx.channel().remoteAddress());
            ctx.pipeline().addAfter(ctx.name(), WEB_HANDLER, new HttpConnectHandler(settings, routes));
        } else {
            ConnectionRoutes.Attach target = routes.spice();
            if (target == null || !target.after(ctx.pipeline(), ctx.name())) {
                LOG.info("connection from {}: no server takes a plain SPICE link here, closing",
                        ctx.channel().remoteAddress());
                in.skipBytes(in.readableBytes());
                ctx.close();
                return;
            }
        }
        // the cumulated bytes go to the next handler when this one is removed
        ctx.pipeline().remove(this);
    }
}
