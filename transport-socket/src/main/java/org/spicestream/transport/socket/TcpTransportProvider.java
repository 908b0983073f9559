package org.spicestream.transport.socket;

import java.time.Duration;
import java.util.Optional;

/** Provider of {@code tcp://host:port[?listen]} guest transports. */
public final class TcpTransportProvider extends SocketTransportProvider {

    /** The scheme served. */
    public static final String SCHEME = "tcp";

    /** With the default reconnect back-off (used by the service loader). */
    public TcpTransportProvider() {
        this(DEFAULT_INITIAL_RECONNECT_DELAY, DEFAULT_MAX_RECONNECT_DELAY);
    }

    /** With the given reconnect back-off: {@code initialDelay}, doubled after each failure, up to {@code maxDelay}. */
    public TcpTransportProvider(Duration initialDelay, Duration maxDelay) {
        super(initialDelay, maxDelay);
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }
}
