package org.spicestream.device.spi;

import java.net.URI;
import java.util.Optional;

/**
 * A plugin that creates {@link GuestTransport}s for one URI scheme; found through {@link java.util.ServiceLoader}
 * (see {@link Transports}).
 *
 * <p>Implementations need a public no-argument constructor to be found by the service loader, must not fail
 * when loaded on a platform they cannot serve, and report that through {@link #unavailableReason()} instead.
 */
public interface TransportProvider {

    /** The URI scheme this provider serves, in lower case (for example {@code tcp}). */
    String scheme();

    /** Empty when the provider can be used on this platform; otherwise a human-readable reason why not. */
    Optional<String> unavailableReason();

    /**
     * Creates a transport for {@code uri} (whose scheme is {@link #scheme()}). Nothing is opened until {@link
     * GuestTransport#start(GuestPortHandler)}.
     *
     * @throws IllegalArgumentException when the URI is malformed for this scheme; the message says what is wrong
     */
    GuestTransport create(URI uri, TransportContext ctx);
}
