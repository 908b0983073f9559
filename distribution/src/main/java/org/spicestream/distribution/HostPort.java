package org.spicestream.distribution;

import java.net.InetSocketAddress;

/**
 * A {@code HOST:PORT} pair as given on the command line; IPv6 literals in brackets ({@code [::1]:5900}).
 *
 * @param host host name or address literal (without brackets)
 * @param port 0…65535 (0 = any free port)
 */
public record HostPort(String host, int port) {

    public HostPort {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("host is required");
        }
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port " + port + " is outside 0…65535");
        }
    }

    /**
     * Parses {@code HOST:PORT} or {@code [IPV6]:PORT}.
     *
     * @throws IllegalArgumentException with a message that shows the expected form
     */
    public static HostPort parse(String text) {
        String s = text == null ? "" : text.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw bad(text);
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                // no host, or an IPv6 literal without brackets (ambiguous)
                throw bad(text);
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        if (host.isEmpty() || port.isEmpty()) {
            throw bad(text);
        }
        try {
            return new HostPort(host, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw bad(text);
        }
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:5900, [::1]:5900)");
    }

    /** An unresolved-until-bind socket address. */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** Whether the host is a loopback address (resolves the name). */
    public boolean isLoopback() {
        InetSocketAddress a = toSocketAddress();
        return !a.isUnresolved() && a.getAddress().isLoopbackAddress();
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
