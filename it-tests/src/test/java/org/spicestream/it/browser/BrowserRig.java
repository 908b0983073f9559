package org.spicestream.it.browser;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.reds.ClasspathWebContent;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SpiceServer;
import org.spicestream.streamchannel.StreamReport;
import org.spicestream.transport.socket.SocketEventLoops;
import org.spicestream.webclient.WebClientAssets;

/**
 * A SPICE server that serves the built-in browser client, with one stream device (display) per {@link #addDisplay}
 * whose guest end is a unix socket for a test agent; it records every STREAM_REPORT clients send.
 */
final class BrowserRig implements AutoCloseable {

    /** The web-client module's files, as the distribution serves them. */
    static final ClasspathWebContent CLIENT =
            new ClasspathWebContent(WebClientAssets.classLoader(), WebClientAssets.RESOURCE_ROOT);

    SpiceServer server;
    private final ServerConfig config;
    final List<StreamReport> reports = new CopyOnWriteArrayList<>();
    private final Path directory;
    private final MultiThreadIoEventLoopGroup deviceLoops = SocketEventLoops.newGroup(1);
    private final List<StreamDevice> devices = new ArrayList<>();
    private final List<ClientPage> pages = new ArrayList<>();

    /** {@code config} adjusts the default: loopback, port 0, no ticketing, the built-in client. */
    BrowserRig(UnaryOperator<ServerConfig> config) throws IOException {
        directory = Files.createTempDirectory("spicestream-web");
        ServerConfig base = ServerConfig.loopbackWithoutTicketing();
        this.config = config.apply(base.withWeb(base.web().withWebContent(CLIENT)));
        server = SpiceServer.start(this.config);
    }

    /** A new display channel (ids 0, 1, ... in call order); returns the socket its guest connects to. */
    Path addDisplay() {
        String name = "stream" + devices.size();
        Path socket = directory.resolve(name + ".sock");
        StreamDevice device = new StreamDevice(name,
                Transports.load().create(URI.create("unix:" + socket + "?listen"), TransportContext.of(deviceLoops, name)),
                server.channels(), server.mmTime(), StreamDeviceConfig.DEFAULT, new StreamDeviceListener() {
                    @Override
                    public void streamReport(StreamDevice d, String client, StreamReport report) {
                        reports.add(report);
                    }
                });
        CompletableFuture.runAsync(device::createChannels, device.executor()).orTimeout(10, TimeUnit.SECONDS).join();
        device.start();
        devices.add(device);
        return socket;
    }

    StreamDevice device(int index) {
        return devices.get(index);
    }

    /** The page at {@code path} of this server, e.g. "/" or "/?password=x". */
    String url(String path) {
        return "http://127.0.0.1:" + server.localAddress().getPort() + path;
    }

    /**
     * Stops the server (clients get DISCONNECTING, as on a real shutdown) and its displays, and starts a new one on
     * the same port with the same configuration and no display.
     */
    void restartServer() {
        int port = server.localAddress().getPort();
        devices.forEach(StreamDevice::close);
        devices.clear();
        server.close();
        server = SpiceServer.start(config.withListen(ListenConfig.of("127.0.0.1", port)));
    }

    /** The client's page at {@code path} in {@code chromium}; it is left before this server closes. */
    ClientPage open(HeadlessChromium chromium, String path) {
        ClientPage page = new ClientPage(chromium);
        pages.add(page);
        return page.open(url(path));
    }

    @Override
    public void close() throws IOException {
        pages.forEach(ClientPage::close);
        devices.forEach(StreamDevice::close);
        server.close();
        deviceLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
