package org.spicestream.transport.socket.internal;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A parsed {@code tcp://host:port[?listen]} or {@code unix:/path[?listen]} device URI.
 *
 * @param unix whether this is a Unix domain socket
 * @param host the TCP host (null for unix)
 * @param port the TCP port (0 = any free port, listen only; -1 for unix)
 * @param path the socket path (null for tcp)
 * @param listen whether the transport listens (the guest-side agent connects to us)
 */
public record SocketEndpoint(boolean unix, String host, int port, String path, boolean listen) {

    /** Longest Unix socket path in bytes: {@code sun_path} holds 108 bytes including the terminating NUL. */
    public static final int MAX_UNIX_PATH_BYTES = 107;

    /** Parses {@code uri}; the message of the exception says what is wrong and what is expected. */
    public static SocketEndpoint parse(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean listen = parseQuery(uri);
        if (uri.getFragment() != null) {
            throw bad(uri, "fragments are not allowed");
        }
        switch (scheme) {
            case "tcp" -> {
                if (uri.isOpaque() || uri.getHost() == null) {
                    throw bad(uri, "expected tcp://host:port[?listen]");
                }
                if (uri.getPort() < 0) {
                    throw bad(uri, "a port is required: tcp://host:port[?listen]");
                }
                if (uri.getPort() == 0 && !listen) {
                    throw bad(uri, "port 0 is only allowed with ?listen");
                }
                if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
                    throw bad(uri, "tcp URIs have no path");
                }
                if (uri.getUserInfo() != null) {
                    throw bad(uri, "user info is not allowed");
                }
                String host = uri.getHost();
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                return new SocketEndpoint(false, host, uri.getPort(), null, listen);
            }
            case "unix" -> {
                if (uri.isOpaque() || uri.getPath() == null || !uri.getPath().startsWith("/")) {
                    throw bad(uri, "an absolute path is required: unix:/path/to/socket[?listen]");
                }
                if (uri.getRawAuthority() != null) {
                    throw bad(uri, "a host is not allowed: unix:/path/to/socket[?listen]");
                }
                String path = uri.getPath();
                int bytes = path.getBytes(StandardCharsets.UTF_8).length;
                if (bytes > MAX_UNIX_PATH_BYTES) {
                    throw bad(uri, "the socket path is " + bytes + " bytes long; Unix sockets allow at most "
                            + MAX_UNIX_PATH_BYTES);
                }
                return new SocketEndpoint(true, null, -1, path, listen);
            }
            default -> throw bad(uri, "scheme must be tcp or unix");
        }
    }

    private static boolean parseQuery(URI uri) {
        String query = uri.getQuery();
        if (query == null || query.isEmpty()) {
            return false;
        }
        boolean listen = false;
        for (String param : query.split("&")) {
            switch (param) {
                case "listen", "listen=true" -> listen = true;
                case "listen=false" -> listen = false;
                default -> throw bad(uri, "unknown parameter '" + param + "'; supported: listen");
            }
        }
        return listen;
    }

    private static IllegalArgumentException bad(URI uri, String why) {
        return new IllegalArgumentException("invalid socket device URI '" + uri + "': " + why);
    }

    /** For logs: {@code tcp connect 127.0.0.1:5000} or {@code unix listen /run/x.sock}. */
    public String describe() {
        String where = unix ? path : (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        return (unix ? "unix " : "tcp ") + (listen ? "listen " : "connect ") + where;
    }
}
