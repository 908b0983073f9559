package org.spicestream.distribution;

import com.google.inject.Inject;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.distribution.demo.DemoGuest;
import org.spicestream.distribution.input.DisplaySizeFollower;
import org.spicestream.distribution.input.GuestInput;
import org.spicestream.distribution.metrics.MetricsEndpoint;
import org.spicestream.distribution.metrics.StreamdMetrics;
import org.spicestream.protocol.DeviceDisplayInfo;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SpiceServer;
import org.spicestream.streamchannel.StreamReport;

/** One running spice-streamd: the SPICE server, its guest devices, the optional demo guest and metrics endpoint. */
public final class SpiceStreamd implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpiceStreamd.class);

    /** Longest wait for a device's channels to be created on its executor at start. */
    public static final Duration DEVICE_SETUP_TIMEOUT = Duration.ofSeconds(5);
    /** Upper bound of the event-loop shutdown on close (the server closed its clients before). */
    public static final Duration EVENT_LOOP_SHUTDOWN_TIMEOUT = Duration.ofSeconds(1);
    /** Name of the demo guest's device. */
    public static final String DEMO_DEVICE = "demo";

    private final Settings settings;
    private final ServerConfig serverConfig;
    private final EventLoopGroup group;
    private final DeviceFactory deviceFactory;
    private final StreamdMetrics metrics;
    private final GuestTransports transports;
    private final GuestInput input;

    private final List<StreamDevice> devices = new ArrayList<>();
    private final List<DisplaySizeFollower> followers = new ArrayList<>();
    private SpiceServer server;
    private MetricsEndpoint metricsEndpoint;
    private DemoGuest demoGuest;
    private Path demoDir;
    private boolean closed;

    @Inject
    SpiceStreamd(Settings settings, ServerConfig serverConfig, EventLoopGroup group, DeviceFactory deviceFactory,
            StreamdMetrics metrics, GuestTransports transports, GuestInput input) {
        this.settings = settings;
        this.transports = transports;
        this.input = input;
        this.serverConfig = serverConfig;
        this.group = group;
        this.deviceFactory = deviceFactory;
        this.metrics = metrics;
    }

    /** Starts everything; on failure whatever started is closed again and the exception is thrown. */
    public synchronized void start() {
        try {
            LOG.info("starting: {}", settings);
            LOG.info("transport schemes: {}", deviceFactory.transports().schemes());
            if (settings.demoWarning() != null) {
                LOG.warn(settings.demoWarning());
            } else if (settings.defaultVm().auth() instanceof AuthConfig.TicketingDisabled) {
                LOG.warn("ticketing disabled: anyone who reaches {} can connect without a password", settings.listen());
            }
            server = SpiceServer.start(serverConfig, group);
            metrics.bindServer(server);
            input.qmp().ifPresent(sink -> metrics.bindInput(input.device().orElseThrow(), sink));

            for (GuestTransports.Entry e : transports.entries()) {
                startDevice(e.name(), e.uri(), e.transport());
            }
            if (settings.demo()) {
                startDemo();
            }
            if (settings.metrics().isPresent()) {
                metricsEndpoint = MetricsEndpoint.start(settings.metrics().get().toSocketAddress(), metrics::scrape);
                LOG.info("metrics at http://{}/metrics", hostPort(metricsEndpoint.address()));
            }
            LOG.info("spice-streamd ready: connect with remote-viewer spice://{}", hostPort(server.localAddress()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private StreamDevice startDevice(String name, URI uri, GuestTransport transport) {
        StreamDevice device = deviceFactory.create(name, transport, server, new DeviceEvents());
        devices.add(device);
        // channels now, so clients see the display before the guest opens its port
        var created = device.executor().submit(device::createChannels);
        if (!created.awaitUninterruptibly(DEVICE_SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(name + ": channels not created within " + DEVICE_SETUP_TIMEOUT);
        }
        if (!created.isSuccess()) {
            throw new IllegalStateException(name + ": cannot create its channels: " + created.cause(), created.cause());
        }
        device.start();
        metrics.bindDevice(device, uri);
        input.qmp().ifPresent(sink -> followers.add(DisplaySizeFollower.follow(device, sink)));
        LOG.info("{}: device {}", name, uri);
        return device;
    }

    private void startDemo() {
        try {
            // A private (0700) directory: nobody else can connect to the listening socket and play guest.
            demoDir = Files.createTempDirectory("spice-streamd-demo-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the demo socket", e);
        }
        Path socket = demoDir.resolve("guest-" + ProcessHandle.current().pid() + ".sock");
        URI uri = URI.create("unix:" + socket.toUri().getRawPath() + "?listen");
        startDevice(DEMO_DEVICE, uri, deviceFactory.createTransport(DEMO_DEVICE, uri));
        demoGuest = new DemoGuest(UnixDomainSocketAddress.of(socket), DemoGuest.Options.DEFAULT);
        demoGuest.start();
    }

    /** The SPICE listen address (the real port when configured with port 0). */
    public synchronized InetSocketAddress spiceAddress() {
        return server.localAddress();
    }

    public synchronized Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metricsEndpoint).map(MetricsEndpoint::address);
    }

    public synchronized List<StreamDevice> devices() {
        return List.copyOf(devices);
    }

    /** The demo guest, when it runs. */
    public synchronized Optional<DemoGuest> demoGuest() {
        return Optional.ofNullable(demoGuest);
    }

    /** Where SPICE clients' keyboard and mouse go. */
    public GuestInput input() {
        return input;
    }

    /**
     * Stops in order: the demo guest and metrics endpoint, then the server (clients get DISCONNECTING), then the
     * devices, then the event loops. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("shutting down");
        closeQuietly("demo guest", demoGuest);
        closeQuietly("metrics endpoint", metricsEndpoint);
        followers.forEach(DisplaySizeFollower::close);
        closeQuietly("SPICE server", server);
        for (StreamDevice d : devices) {
            closeQuietly(d.name(), d);
        }
        // transports no device took over (a start that failed half-way)
        List<String> started = devices.stream().map(StreamDevice::name).toList();
        GuestTransports.closeAll(transports.entries().stream().filter(e -> !started.contains(e.name())).toList());
        group.shutdownGracefully(0, EVENT_LOOP_SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(EVENT_LOOP_SHUTDOWN_TIMEOUT.toMillis() * 2);
        if (demoDir != null) {
            try (var files = Files.list(demoDir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
                Files.deleteIfExists(demoDir);
            } catch (IOException e) {
                LOG.debug("cannot remove {}: {}", demoDir, e.toString());
            }
        }
        LOG.info("stopped");
    }

    private static void closeQuietly(String what, AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed: {}", what, e.toString());
        }
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Device events worth a log line (metrics poll the rest). */
    private static final class DeviceEvents implements StreamDeviceListener {
        @Override
        public void displayInfo(StreamDevice device, DeviceDisplayInfo info) {
            LOG.debug("{}: display info {}", device.name(), info);
        }

        @Override
        public void qualityIndicator(StreamDevice device, String text) {
            LOG.debug("{}: guest quality: {}", device.name(), text);
        }

        @Override
        public void streamReport(StreamDevice device, String client, StreamReport report) {
            LOG.trace("{}: {} stream report {}", device.name(), client, report);
        }
    }
}
