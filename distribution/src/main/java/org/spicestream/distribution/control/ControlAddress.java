package org.spicestream.distribution.control;

import java.nio.file.Path;
import org.spicestream.distribution.HostPort;

/**
 * Where the control API listens: a Unix socket ({@code unix:/run/spice-streamd/control.sock}) or a TCP address on
 * loopback ({@code 127.0.0.1:5999}); anything reachable from the network is refused.
 *
 * @param socket the Unix socket path, or null
 * @param tcp the loopback address, or null
 */
public record ControlAddress(Path socket, HostPort tcp) {

    /** Longest Unix socket path (sun_path is 108 bytes with its NUL). */
    public static final int MAX_SOCKET_PATH = 107;

    /**
     * @throws IllegalArgumentException for anything but {@code unix:/absolute/path} or a loopback {@code HOST:PORT}
     */
    public static ControlAddress parse(String text) {
        String t = text.trim();
        if (t.startsWith("unix:")) {
            Path p = Path.of(t.substring("unix:".length()));
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("'" + text + "': the socket path must be absolute");
            }
            if (p.toString().length() > MAX_SOCKET_PATH) {
                throw new IllegalArgumentException("'" + text + "': the socket path is longer than " + MAX_SOCKET_PATH);
            }
            return new ControlAddress(p, null);
        }
        HostPort hp = HostPort.parse(t);
        if (!hp.isLoopback()) {
            throw new IllegalArgumentException("'" + text + "' is not a loopback address: the control API adds VMs and"
                    + " sets passwords, it must not be reachable from the network (use unix:/path or 127.0.0.1:PORT)");
        }
        return new ControlAddress(null, hp);
    }

    @Override
    public String toString() {
        return socket != null ? "unix:" + socket : tcp.toString();
    }
}
