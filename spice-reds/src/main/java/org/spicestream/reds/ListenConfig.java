package org.spicestream.reds;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Set;

/**
 * Where a server listens: a plain address, optionally a TLS listener, and the channel types that must be linked
 * over TLS. {@link #NONE} listens nowhere: the server is then reached only through a {@link FrontDoor}.
 *
 * @param address plain listen address (port 0 picks a free port), or null for no plain listener
 * @param tls the TLS listener, or null
 * @param secureChannels channel types ({@link SpiceChannelType}) that must use TLS; a plain link gets NEED_SECURED
 */
public record ListenConfig(InetSocketAddress address, TlsConfig tls, Set<Integer> secureChannels) {

    /** Default listen host (loopback only). */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Default SPICE port. */
    public static final int DEFAULT_PORT = 5900;

    /** {@value #DEFAULT_HOST}:{@value #DEFAULT_PORT}, plain only. */
    public static final ListenConfig DEFAULT = of(DEFAULT_HOST, DEFAULT_PORT);
    /** No listener of its own. */
    public static final ListenConfig NONE = new ListenConfig(null, null, Set.of());

    public ListenConfig {
        secureChannels = Set.copyOf(secureChannels);
        if (!secureChannels.isEmpty() && tls == null && address != null) {
            // without any listener of its own the server gets its connections (TLS or not) from a front door
            throw new IllegalArgumentException("secure channels " + secureChannels + " need a TLS listener");
        }
    }

    /** Plain listener on {@code host:port} (port 0 picks a free port). */
    public static ListenConfig of(String host, int port) {
        return of(new InetSocketAddress(host, port));
    }

    /** Plain listener on {@code address}. */
    public static ListenConfig of(InetSocketAddress address) {
        return new ListenConfig(Objects.requireNonNull(address, "address"), null, Set.of());
    }

    /** This listener plus TLS (null: none). */
    public ListenConfig withTls(TlsConfig newTls) {
        return new ListenConfig(address, newTls, newTls == null ? Set.of() : secureChannels);
    }

    /** Channel types that must use TLS (see {@link SpiceChannelType#parseList}). */
    public ListenConfig withSecureChannels(Set<Integer> channelTypes) {
        return new ListenConfig(address, tls, channelTypes);
    }

    /** Whether any listener (plain or TLS) is configured. */
    public boolean listens() {
        return address != null || tls != null;
    }
}
