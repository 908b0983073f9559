package org.spicestream.transport.virtio;

import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.transport.virtio.internal.VirtioEndpoint;

/**
 * Provider of {@code virtio:/path/to/chardev.sock[?qmp=/path/to/qmp.sock[&port=ID]]} transports: the host end of
 * a QEMU {@code virtserialport} whose chardev is {@code -chardev socket,path=...,server=on,wait=off}.
 *
 * <ul>
 *   <li>{@code qmp}: a QMP socket of the same QEMU ({@code -qmp unix:PATH,server=on,wait=off}) given to this
 *       server alone; port open / close then follows the guest (VSERPORT_CHANGE), and {@link
 *       VirtioGuestTransport#inputSink()} injects SPICE input into the VM.
 *   <li>{@code port}: the port's {@code -device virtserialport,id=ID} that VSERPORT_CHANGE events name; by default
 *       it is discovered through QMP as the virtserialport whose chardev listens at our path.
 * </ul>
 */
public final class VirtioTransportProvider implements TransportProvider {

    /** The scheme served. */
    public static final String SCHEME = "virtio";

    /** First delay before reconnecting after a lost or failed connection (100 ms). */
    public static final Duration DEFAULT_INITIAL_RECONNECT_DELAY = Duration.ofMillis(100);

    /** Longest delay between connection attempts (2 s): a restarted QEMU is found again within this. */
    public static final Duration DEFAULT_MAX_RECONNECT_DELAY = Duration.ofSeconds(2);

    private final Duration initialDelay;
    private final Duration maxDelay;

    /** With the default reconnect back-off (used by the service loader). */
    public VirtioTransportProvider() {
        this(DEFAULT_INITIAL_RECONNECT_DELAY, DEFAULT_MAX_RECONNECT_DELAY);
    }

    /** With the given reconnect back-off: {@code initialDelay}, doubled after each failure, up to {@code maxDelay}. */
    public VirtioTransportProvider(Duration initialDelay, Duration maxDelay) {
        this.initialDelay = Objects.requireNonNull(initialDelay, "initialDelay");
        this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
        if (initialDelay.isZero() || initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("reconnect delays need 0 < initial <= max, got " + initialDelay
                    + " and " + maxDelay);
        }
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
            return Optional.of("QEMU chardev and QMP sockets are Unix domain sockets, and neither native epoll nor"
                    + " JDK Unix domain sockets are available: " + e);
        }
    }

    @Override
    public VirtioGuestTransport create(URI uri, TransportContext ctx) {
        return new VirtioGuestTransport(VirtioEndpoint.parse(uri), ctx, initialDelay, maxDelay);
    }
}
