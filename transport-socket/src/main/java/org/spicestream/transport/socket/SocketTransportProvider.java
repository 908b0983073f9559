package org.spicestream.transport.socket;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.transport.socket.internal.SocketEndpoint;

/** Shared base of the {@code tcp} and {@code unix} providers: URI parsing and reconnect back-off settings. */
public abstract class SocketTransportProvider implements TransportProvider {

    /** First delay before reconnecting after a lost or failed connection (100 ms). */
    public static final Duration DEFAULT_INITIAL_RECONNECT_DELAY = Duration.ofMillis(100);

    /** Longest delay between connection attempts (5 s): the delay doubles after each failure up to this. */
    public static final Duration DEFAULT_MAX_RECONNECT_DELAY = Duration.ofSeconds(5);

    private final Duration initialDelay;
    private final Duration maxDelay;

    SocketTransportProvider(Duration initialDelay, Duration maxDelay) {
        this.initialDelay = Objects.requireNonNull(initialDelay, "initialDelay");
        this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
        if (initialDelay.isZero() || initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("reconnect delays need 0 < initial <= max, got " + initialDelay
                    + " and " + maxDelay);
        }
    }

    @Override
    public SocketGuestTransport create(URI uri, TransportContext ctx) {
        SocketEndpoint endpoint = SocketEndpoint.parse(uri);
        if (!endpoint.unix() != scheme().equals("tcp")) {
            throw new IllegalArgumentException("URI '" + uri + "' is not for scheme " + scheme());
        }
        return new SocketGuestTransport(endpoint, ctx, initialDelay, maxDelay);
    }

    /** First reconnect delay. */
    public Duration initialReconnectDelay() {
        return initialDelay;
    }

    /** Longest reconnect delay. */
    public Duration maxReconnectDelay() {
        return maxDelay;
    }

}
