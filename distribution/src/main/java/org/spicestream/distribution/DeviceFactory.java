package org.spicestream.distribution;

import com.google.inject.Inject;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.reds.SpiceServer;

/** Creates the transport for a device URI (by its scheme) and the stream device over it. */
public final class DeviceFactory {

    private final Transports transports;
    private final EventLoopGroup group;
    private final StreamDeviceConfig config;

    @Inject
    DeviceFactory(Transports transports, EventLoopGroup group, StreamDeviceConfig config) {
        this.transports = transports;
        this.group = group;
        this.config = config;
    }

    /**
     * The transport (not started) of the scheme {@code uri} names.
     *
     * @throws IllegalArgumentException when no transport serves the URI, or it is malformed for its scheme
     */
    public GuestTransport createTransport(String name, URI uri) {
        return transports.create(uri, TransportContext.of(group, name));
    }

    /** A device (not started) over {@code transport} whose channels register with {@code server}. */
    public StreamDevice create(String name, GuestTransport transport, SpiceServer server,
            StreamDeviceListener listener) {
        return new StreamDevice(name, transport, server.channels(), server.mmTime(), config, listener);
    }

    /**
     * A device (not started) over a new transport for {@code uri}.
     *
     * @throws IllegalArgumentException when no transport serves the URI, or it is malformed for its scheme
     */
    public StreamDevice create(String name, URI uri, SpiceServer server, StreamDeviceListener listener) {
        return create(name, createTransport(name, uri), server, listener);
    }

    public Transports transports() {
        return transports;
    }
}
