package org.spicestream.transport.socket;

import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;

/** Provider of {@code unix:/path[?listen]} guest transports (Unix domain stream sockets). */
public final class UnixTransportProvider extends SocketTransportProvider {

    /** The scheme served. */
    public static final String SCHEME = "unix";

    /** With the default reconnect back-off (used by the service loader). */
    public UnixTransportProvider() {
        this(DEFAULT_INITIAL_RECONNECT_DELAY, DEFAULT_MAX_RECONNECT_DELAY);
    }

    /** With the given reconnect back-off: {@code initialDelay}, doubled after each failure, up to {@code maxDelay}. */
    public UnixTransportProvider(Duration initialDelay, Duration maxDelay) {
        super(initialDelay, maxDelay);
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public Optional<String> unavailableReason() {
        if (Epoll.isAvailable()) {
            return Optional.empty();
        }
        try {
            SocketChannel.open(StandardProtocolFamily.UNIX).close();
            return Optional.empty();
        } catch (UnsupportedOperationException | IOException e) {
            return Optional.of("neither native epoll nor JDK Unix domain sockets are available: " + e);
        }
    }
}
