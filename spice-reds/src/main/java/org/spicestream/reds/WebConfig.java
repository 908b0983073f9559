package org.spicestream.reds;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Set;

/**
 * The HTTP side of a SPICE port: WebSocket clients (spice-wire §2) and static files.
 *
 * @param webRoot directory served over HTTP (e.g. spice-html5), or null: no static files (WebSocket works without)
 * @param webContent class-path content served when there is no web root (the built-in browser client), or null
 * @param maxInitialLine bound of an HTTP request line
 * @param maxHeaderSize bound of all request header lines together
 * @param requestTimeout time from the first HTTP byte to a complete request
 * @param maxWebSocketFrameSize bound of one incoming WebSocket frame's payload
 * @param allowedOrigins Origin values a WebSocket upgrade may come from (exact match); empty = any
 * @param maxStaticFileSize bound of a static file served
 */
public record WebConfig(Path webRoot, ClasspathWebContent webContent, int maxInitialLine, int maxHeaderSize, Duration requestTimeout,
        int maxWebSocketFrameSize, Set<String> allowedOrigins, long maxStaticFileSize) {

    /** Default bound of an HTTP request line (WebSocket handshake or static file request). */
    public static final int DEFAULT_MAX_INITIAL_LINE = 4096;
    /** Default bound of all HTTP request header lines together. */
    public static final int DEFAULT_MAX_HEADER_SIZE = 8192;
    /** Default time from the first HTTP byte to a complete request; the connection is closed after it. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** Default bound of one incoming WebSocket frame's payload (client messages are small). */
    public static final int DEFAULT_MAX_WEBSOCKET_FRAME_SIZE = 64 * 1024;
    /** Default bound of a static file (spice-html5's largest file is 1.7 MB). */
    public static final long DEFAULT_MAX_STATIC_FILE_SIZE = 8L * 1024 * 1024;

    public static final WebConfig DEFAULT = new WebConfig(null, null, DEFAULT_MAX_INITIAL_LINE, DEFAULT_MAX_HEADER_SIZE,
            DEFAULT_REQUEST_TIMEOUT, DEFAULT_MAX_WEBSOCKET_FRAME_SIZE, Set.of(), DEFAULT_MAX_STATIC_FILE_SIZE);

    public WebConfig {
        webRoot = webRoot == null ? null : webRoot.toAbsolutePath().normalize();
        Checks.positive(maxInitialLine, "maxInitialLine");
        Checks.positive(maxHeaderSize, "maxHeaderSize");
        Checks.positive(requestTimeout, "requestTimeout");
        Checks.positive(maxWebSocketFrameSize, "maxWebSocketFrameSize");
        allowedOrigins = Set.copyOf(allowedOrigins);
        Checks.positive(maxStaticFileSize, "maxStaticFileSize");
    }

    /** Serve static files from this directory (null: none). */
    public WebConfig withWebRoot(Path directory) {
        return new WebConfig(directory, webContent, maxInitialLine, maxHeaderSize, requestTimeout, maxWebSocketFrameSize,
                allowedOrigins, maxStaticFileSize);
    }

    /** Serve this class-path content when there is no web root (null: none); a web root always wins. */
    public WebConfig withWebContent(ClasspathWebContent content) {
        return new WebConfig(webRoot, content, maxInitialLine, maxHeaderSize, requestTimeout, maxWebSocketFrameSize,
                allowedOrigins, maxStaticFileSize);
    }

    public WebConfig withHttpLimits(int initialLine, int headerSize, Duration timeout) {
        return new WebConfig(webRoot, webContent, initialLine, headerSize, timeout, maxWebSocketFrameSize, allowedOrigins,
                maxStaticFileSize);
    }

    public WebConfig withMaxWebSocketFrameSize(int bytes) {
        return new WebConfig(webRoot, webContent, maxInitialLine, maxHeaderSize, requestTimeout, bytes, allowedOrigins,
                maxStaticFileSize);
    }

    public WebConfig withAllowedOrigins(Collection<String> origins) {
        return new WebConfig(webRoot, webContent, maxInitialLine, maxHeaderSize, requestTimeout, maxWebSocketFrameSize,
                Set.copyOf(origins), maxStaticFileSize);
    }

    public WebConfig withMaxStaticFileSize(long bytes) {
        return new WebConfig(webRoot, webContent, maxInitialLine, maxHeaderSize, requestTimeout, maxWebSocketFrameSize,
                allowedOrigins, bytes);
    }
}
