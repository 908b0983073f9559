package org.spicestream.distribution.vm;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.AgentDevice;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.distribution.GuestTransports;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.distribution.input.DisplaySizeFollower;
import org.spicestream.distribution.input.GuestInput;
import org.spicestream.protocol.DeviceDisplayInfo;
import org.spicestream.reds.AgentRouter;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.MmTimeConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.TlsConfig;
import org.spicestream.streamchannel.StreamReport;

/**
 * One VM being served: its SPICE server (on the shared event loops, reached through the front door and, if it has
 * them, its own listeners), one stream device per monitor, its guest agent's device if it has an agent port, and the
 * input sink of its first device that has one.
 * Nothing here starts a thread.
 */
public final class Vm implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Vm.class);

    /** Short name of the guest agent's device ({@code VM/agent}). */
    public static final String AGENT_DEVICE = "agent";

    /** Longest wait for a device's channels to be created on its executor at start. */
    public static final java.time.Duration DEVICE_SETUP_TIMEOUT = java.time.Duration.ofSeconds(5);

    private volatile VmConfig config;
    private final VmEnvironment env;
    private final List<GuestTransports.Entry> transports;
    private final GuestInput input;
    private final SpiceServer server;
    private final List<StreamDevice> devices = new ArrayList<>();
    private final Map<StreamDevice, String> shortNames = new LinkedHashMap<>();
    private final List<DisplaySizeFollower> followers = new ArrayList<>();
    private final GuestTransport agentTransport;
    private final DeviceEvents events = new DeviceEvents();
    private AgentDevice agentDevice;
    private AutoCloseable meters;
    private final Object metersLock = new Object();
    private volatile boolean closed;

    private Vm(VmConfig config, VmEnvironment env, List<GuestTransports.Entry> transports, GuestInput input,
            SpiceServer server, GuestTransport agentTransport) {
        this.config = config;
        this.env = env;
        this.transports = transports;
        this.input = input;
        this.server = server;
        this.agentTransport = agentTransport;
    }

    /**
     * Starts the VM: transports, server (with its own listeners if configured), channels, devices, metrics.
     * On failure whatever started is closed again and the exception is thrown.
     *
     * @param extra devices on top of the configured ones (short name → URI), e.g. the demo guest's
     * @throws IllegalArgumentException for a device URI no transport serves, or a TLS listener without certificate
     * @throws IllegalStateException when a listener cannot bind (port in use) or a device cannot be set up
     */
    public static Vm start(VmConfig config, VmEnvironment env, Map<String, URI> extra) {
        Map<String, URI> named = new LinkedHashMap<>();
        int n = 0;
        for (URI uri : config.devices()) {
            named.put(GuestTransports.DEVICE_NAME_PREFIX + n++, uri);
        }
        extra.forEach(named::put);
        Map<String, URI> full = new LinkedHashMap<>();
        named.forEach((shortName, uri) -> full.put(config.name() + "/" + shortName, uri));
        ServerConfig serverConfig = serverConfig(config, env); // checks before anything is created
        List<GuestTransports.Entry> transports = GuestTransports.create(env.devices(), full);
        GuestInput input = GuestInput.select(transports);
        GuestTransport agentTransport = null;
        SpiceServer server;
        try {
            if (config.agent().port() != null) {
                agentTransport = env.devices().createTransport(config.name() + "/" + AGENT_DEVICE, config.agent().port());
            }
            server = SpiceServer.start(serverConfig.withInputSink(input.sink()), env.group(), env.keyExecutor());
        } catch (RuntimeException e) {
            GuestTransports.closeAll(transports);
            if (agentTransport != null) {
                agentTransport.close();
            }
            throw e;
        }
        Vm vm = new Vm(config, env, transports, input, server, agentTransport);
        try {
            vm.startDevices(new ArrayList<>(named.keySet()));
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
        return vm;
    }

    /** The SPICE server configuration of {@code config}: what the VM's server is started with. */
    static ServerConfig serverConfig(VmConfig config, VmEnvironment env) {
        ListenConfig listen = ListenConfig.NONE;
        VmConfig.VmListen own = config.listen();
        if (own.plain() != null) {
            listen = ListenConfig.of(own.plain().toSocketAddress());
        }
        if (own.tls() != null) {
            VmEnvironment.TlsFiles tls = env.tls();
            if (tls == null) {
                throw new IllegalArgumentException("VM " + config.name() + ": a TLS listener needs the server's"
                        + " --tls-cert and --tls-key");
            }
            listen = listen.withTls(new TlsConfig(own.tls().toSocketAddress(), tls.certificateChain(), tls.privateKey(),
                    tls.clientCa()));
        }
        if (VmConfig.DEFAULT_VM.equals(config.name()) && env.tls() != null && (own.plain() == null || own.tls() != null)) {
            listen = listen.withSecureChannels(env.tls().secureChannels());
        }
        VmLimits l = config.limits();
        return ServerConfig.DEFAULT
                .withName(config.name())
                .withListen(listen)
                .withAuth(config.auth())
                .withSessions(new SessionConfig(config.sessionPolicy(), l.maxSessions(), l.maxClientsPerChannel()))
                .withConnection(ConnectionConfig.DEFAULT.withSendQueue(l.sendQueueBytes(), l.sendQueueMessages()))
                .withWeb(env.web())
                .withMmTime(MmTimeConfig.DEFAULT.withLatency(l.latency()))
                .withAgent(config.agent().relay());
    }

    private void startDevices(List<String> shortNames) {
        StreamDeviceConfig deviceConfig = env.devices().deviceConfig(config.limits());
        for (int i = 0; i < transports.size(); i++) {
            GuestTransports.Entry e = transports.get(i);
            StreamDevice device = env.devices().create(e.name(), e.transport(), server, deviceConfig, events);
            devices.add(device);
            this.shortNames.put(device, shortNames.get(i));
            // channels now, so clients see the display before the guest opens its port
            var created = device.executor().submit(device::createChannels);
            if (!created.awaitUninterruptibly(DEVICE_SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(e.name() + ": channels not created within " + DEVICE_SETUP_TIMEOUT);
            }
            if (!created.isSuccess()) {
                throw new IllegalStateException(e.name() + ": cannot create its channels: " + created.cause(),
                        created.cause());
            }
            device.start();
            input.guest().ifPresent(sink -> followers.add(DisplaySizeFollower.follow(device, sink)));
            LOG.info("{}: device {}", e.name(), e.uri());
        }
        if (agentTransport != null) {
            agentDevice = new AgentDevice(config.name() + "/" + AGENT_DEVICE, agentTransport, server.agent());
            agentDevice.start();
            LOG.info("{}/{}: guest agent port {} (clipboard {})", config.name(), AGENT_DEVICE, config.agent().port(),
                    config.agent().copyPaste() ? "relayed" : "off");
        }
        attachMetrics();
        LOG.info("VM {} started: {} device(s), {}, policy {}{}", config.name(), devices.size(), config.auth(),
                config.sessionPolicy(), server.localAddress() == null && server.tlsLocalAddress() == null ? ""
                        : ", own listener " + describe(server.localAddress()) + " " + describe(server.tlsLocalAddress()));
    }

    private static String describe(InetSocketAddress a) {
        return a == null ? "" : a.toString();
    }

    public String name() {
        return config.name();
    }

    public VmConfig config() {
        return config;
    }

    /** After a password rotation: the same VM with its new authentication. */
    void replaceConfig(VmConfig newConfig) {
        this.config = newConfig;
    }

    public SpiceServer server() {
        return server;
    }

    /** The stream devices, display 0 first. */
    public List<StreamDevice> devices() {
        return List.copyOf(devices);
    }

    /** The device's name without the VM ({@code stream0}, {@code demo}). */
    public String shortName(StreamDevice device) {
        return shortNames.get(device);
    }

    /** Device URIs in display order (configured ones, then extra ones such as the demo's). */
    public List<URI> deviceUris() {
        return transports.stream().map(GuestTransports.Entry::uri).toList();
    }

    /** The guest agent's device, when the VM has an agent port. */
    public Optional<AgentDevice> agentDevice() {
        return Optional.ofNullable(agentDevice);
    }

    /** Where this VM's keyboard and mouse go. */
    public GuestInput input() {
        return input;
    }

    /**
     * One display of the VM as the control API shows it.
     *
     * @param device the device's short name
     * @param codec codec of the current stream (lower case, as {@code mjpeg}), or null
     * @param width stream width, 0 without a stream
     * @param height stream height, 0 without a stream
     * @param clients display clients
     */
    public record Display(String device, String codec, int width, int height, int clients) {}

    /** The current stream of every device, read on each device's executor (bounded wait). */
    public List<Display> displays() {
        List<Display> out = new ArrayList<>();
        for (StreamDevice d : devices) {
            io.netty.util.concurrent.Future<Display> f;
            try {
                f = d.executor().submit(() -> {
                    var ch = d.streamChannel();
                    var format = d.format();
                    var codec = ch == null ? null : ch.currentCodec();
                    return new Display(shortName(d), codec == null ? null : codec.name().toLowerCase(java.util.Locale.ROOT),
                            format == null ? 0 : format.width(), format == null ? 0 : format.height(),
                            ch == null ? 0 : ch.clientCount());
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                continue;
            }
            if (f.awaitUninterruptibly(DEVICE_SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) && f.isSuccess()) {
                out.add(f.getNow());
            } else {
                out.add(new Display(shortName(d), null, 0, 0, 0));
            }
        }
        return out;
    }

    /**
     * Registers this VM's meters (once). A replacement VM has the same tags as the VM it replaces, so the registry
     * detaches the old VM's meters before the new one attaches its own.
     */
    void attachMetrics() {
        synchronized (metersLock) {
            if (meters == null && !closed) {
                meters = env.metrics().bindVm(this);
            }
        }
    }

    /** Removes this VM's meters (they can be attached again). */
    void detachMetrics() {
        synchronized (metersLock) {
            closeQuietly("metrics", meters);
            meters = null;
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops in order: clients are told DISCONNECTING and the server's listeners closed, then its devices, then the
     * metrics. The shared event loops keep running. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        followers.forEach(DisplaySizeFollower::close);
        closeQuietly("SPICE server", server);
        for (StreamDevice d : devices) {
            closeQuietly(d.name(), d);
        }
        if (agentDevice != null) {
            closeQuietly(agentDevice.name(), agentDevice);
        } else if (agentTransport != null) {
            agentTransport.close();
        }
        List<String> started = devices.stream().map(StreamDevice::name).toList();
        GuestTransports.closeAll(transports.stream().filter(e -> !started.contains(e.name())).toList());
        detachMetrics();
        LOG.info("VM {} stopped", config.name());
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

    @Override
    public String toString() {
        return "VM " + config.name();
    }

    /** Device events worth a log line (metrics poll the rest); display identities go to the guest agent (B17). */
    private final class DeviceEvents implements StreamDeviceListener {
        @Override
        public void displayInfo(StreamDevice device, DeviceDisplayInfo info) {
            LOG.debug("{}: display info {}", device.name(), info);
            if (device.streamChannel() != null) {
                server.agent().displayDevice(new AgentRouter.DisplayDevice(device.streamChannel().id(), info.streamId(),
                        info.deviceDisplayId(), info.deviceAddress()));
            }
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
