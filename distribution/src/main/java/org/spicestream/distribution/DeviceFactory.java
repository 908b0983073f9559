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
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.reds.SpiceServer;
import org.spicestream.streamchannel.StreamChannelConfig;

/** Creates the transport for a device URI (by its scheme) and the stream device over it. */
public final class DeviceFactory {

    private final Transports transports;
    private final EventLoopGroup group;
    private final StreamDeviceConfig base;

    @Inject
    DeviceFactory(Transports transports, EventLoopGroup group, StreamDeviceConfig base) {
        this.transports = transports;
        this.group = group;
        this.base = base;
    }

    /**
     * The transport (not started) of the scheme {@code uri} names.
     *
     * @throws IllegalArgumentException when no transport serves the URI, or it is malformed for its scheme
     */
    public GuestTransport createTransport(String name, URI uri) {
        return transports.create(uri, TransportContext.of(group, name));
    }

    /**
     * Checks that a transport serves {@code uri} without creating anything.
     *
     * @throws IllegalArgumentException when no transport serves the URI
     */
    public void checkScheme(URI uri) {
        transports.forUri(uri);
    }

    /** The stream-device tunables of a VM with these limits. */
    public StreamDeviceConfig deviceConfig(VmLimits limits) {
        return base.withLimits(base.limits().withMaxDataSize(limits.maxFrameBytes()))
                .withChannel(new StreamChannelConfig(limits.keyFrameWait(), limits.maxVideoAge()));
    }

    /** A device (not started) over {@code transport} whose channels register with {@code server}. */
    public StreamDevice create(String name, GuestTransport transport, SpiceServer server, StreamDeviceConfig config,
            StreamDeviceListener listener) {
        return new StreamDevice(name, transport, server.channels(), server.mmTime(), config, listener);
    }

    public Transports transports() {
        return transports;
    }

    public EventLoopGroup group() {
        return group;
    }
}
