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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.StreamDevice;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.control.ControlServer;
import org.spicestream.distribution.control.VmDirectory;
import org.spicestream.distribution.demo.DemoGuest;
import org.spicestream.distribution.input.GuestInput;
import org.spicestream.distribution.metrics.MetricsEndpoint;
import org.spicestream.distribution.metrics.StreamdMetrics;
import org.spicestream.distribution.vm.Vm;
import org.spicestream.distribution.vm.VmRegistry;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.FrontDoor;

/**
 * One running spice-streamd: the shared port (front door), the VMs (the command line's default VM first, then
 * those the control API or the VM directory add), the optional demo guest, control API and metrics endpoint.
 */
public final class SpiceStreamd implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpiceStreamd.class);

    /** Upper bound of the event-loop shutdown on close (the servers closed their clients before). */
    public static final Duration EVENT_LOOP_SHUTDOWN_TIMEOUT = Duration.ofSeconds(1);
    /** Name of the demo guest's device (in the default VM). */
    public static final String DEMO_DEVICE = "demo";

    private final Settings settings;
    private final FrontDoor.Config frontDoorConfig;
    private final EventLoopGroup group;
    private final ExecutorService keyExecutor;
    private final StreamdMetrics metrics;
    private final VmRegistry vms;

    private FrontDoor frontDoor;
    private MetricsEndpoint metricsEndpoint;
    private ControlServer control;
    private VmDirectory vmDirectory;
    private DemoGuest demoGuest;
    private Path demoDir;
    private boolean closed;

    @Inject
    SpiceStreamd(Settings settings, FrontDoor.Config frontDoorConfig, EventLoopGroup group,
            ExecutorService keyExecutor, StreamdMetrics metrics, VmRegistry vms) {
        this.settings = settings;
        this.frontDoorConfig = frontDoorConfig;
        this.group = group;
        this.keyExecutor = keyExecutor;
        this.metrics = metrics;
        this.vms = vms;
    }

    /** Starts everything; on failure whatever started is closed again and the exception is thrown. */
    public synchronized void start() {
        try {
            LOG.info("starting: {}", settings);
            if (settings.demoWarning() != null) {
                LOG.warn(settings.demoWarning());
            } else if (settings.defaultVm().auth() instanceof AuthConfig.TicketingDisabled) {
                LOG.warn("ticketing disabled: anyone who reaches {} can connect to the default VM without a password",
                        settings.listen());
            }
            metrics.bindProcess(vms::size, () -> frontDoor == null ? 0 : frontDoor.pendingConnections());
            Map<String, URI> extra = settings.demo() ? Map.of(DEMO_DEVICE, demoUri()) : Map.of();
            if (!settings.defaultVm().devices().isEmpty() || settings.demo()) {
                vms.put(settings.defaultVm(), extra);
            }
            if (settings.demo()) {
                demoGuest = new DemoGuest(UnixDomainSocketAddress.of(Path.of(demoUri().getPath())),
                        DemoGuest.Options.DEFAULT);
                demoGuest.start();
            }
            frontDoor = FrontDoor.start(frontDoorConfig, vms, group);
            if (settings.host().vmDir() != null) {
                vmDirectory = VmDirectory.start(settings.host().vmDir(), vms, settings.defaultVm().limits());
            }
            if (settings.host().control() != null) {
                control = ControlServer.start(settings.host(), vms, settings.defaultVm().limits(), group);
            }
            if (settings.metrics().isPresent()) {
                metricsEndpoint = MetricsEndpoint.start(settings.metrics().get().toSocketAddress(), metrics::scrape);
                LOG.info("metrics at http://{}/metrics", hostPort(metricsEndpoint.address()));
            }
            LOG.info("spice-streamd ready: connect with remote-viewer spice://{}", hostPort(frontDoor.localAddress()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private URI demoUri() {
        if (demoDir == null) {
            try {
                // A private (0700) directory: nobody else can connect to the listening socket and play guest.
                demoDir = Files.createTempDirectory("spice-streamd-demo-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a directory for the demo socket", e);
            }
        }
        Path socket = demoDir.resolve("guest-" + ProcessHandle.current().pid() + ".sock");
        return URI.create("unix:" + socket.toUri().getRawPath() + "?listen");
    }

    /** The shared SPICE listen address (the real port when configured with port 0). */
    public synchronized InetSocketAddress spiceAddress() {
        return frontDoor.localAddress();
    }

    /** The shared port's TLS address, or null. */
    public synchronized InetSocketAddress tlsAddress() {
        return frontDoor.tlsLocalAddress();
    }

    public synchronized Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metricsEndpoint).map(MetricsEndpoint::address);
    }

    /** The control API's address (a Unix socket path or HOST:PORT), when it runs. */
    public synchronized Optional<String> controlAddress() {
        return Optional.ofNullable(control).map(ControlServer::address);
    }

    /** The VMs. */
    public VmRegistry vms() {
        return vms;
    }

    /** The default VM's devices. */
    public List<StreamDevice> devices() {
        return vms.get(VmConfig.DEFAULT_VM).map(Vm::devices).orElse(List.of());
    }

    /** The demo guest, when it runs. */
    public synchronized Optional<DemoGuest> demoGuest() {
        return Optional.ofNullable(demoGuest);
    }

    /** Where the default VM's clients' keyboard and mouse go. */
    public GuestInput input() {
        return vms.get(VmConfig.DEFAULT_VM).map(Vm::input).orElse(GuestInput.loggingOnly());
    }

    /**
     * Stops in order: the VM directory, control API, demo guest and metrics endpoint, the front door, then every VM
     * (clients get DISCONNECTING, devices close), then the event loops. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("shutting down");
        closeQuietly("VM directory", vmDirectory);
        closeQuietly("control API", control);
        closeQuietly("demo guest", demoGuest);
        closeQuietly("metrics endpoint", metricsEndpoint);
        closeQuietly("front door", frontDoor);
        closeQuietly("VMs", vms);
        keyExecutor.shutdownNow();
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

    static String hostPort(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
