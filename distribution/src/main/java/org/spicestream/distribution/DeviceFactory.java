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

/** Creates a stream device for a device URI with the transport its scheme names. */
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
     * A device (not started) whose channels register with {@code server}.
     *
     * @throws IllegalArgumentException when no transport serves the URI, or it is malformed for its scheme
     */
    public StreamDevice create(String name, URI uri, SpiceServer server, StreamDeviceListener listener) {
        GuestTransport transport = transports.create(uri, TransportContext.of(group, name));
        return new StreamDevice(name, transport, server.channels(), server.mmTime(), config, listener);
    }

    public Transports transports() {
        return transports;
    }
}
