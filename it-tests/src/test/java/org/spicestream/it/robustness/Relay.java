package org.spicestream.it.robustness;

import static org.awaitility.Awaitility.await;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.reds.RedChannel;
import org.spicestream.reds.RedChannelClient;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceServer;
import org.spicestream.transport.socket.SocketEventLoops;

/**
 * A SPICE server with one stream device whose guest end is a unix socket (socket transport, listening), with every
 * knob the fault tests turn: server config, device config, transport context.
 */
final class Relay implements AutoCloseable {

    final Path directory;
    final Path socket;
    final SpiceServer server;
    final MultiThreadIoEventLoopGroup deviceLoops;
    final StreamDevice device;

    Relay(UnaryOperator<ServerConfig> serverConfig) throws IOException {
        this(serverConfig, StreamDeviceConfig.DEFAULT, UnaryOperator.identity());
    }

    Relay(UnaryOperator<ServerConfig> serverConfig, StreamDeviceConfig deviceConfig,
            UnaryOperator<TransportContext> transportContext) throws IOException {
        directory = Files.createTempDirectory("spicestream-robust");
        socket = directory.resolve("stream0.sock");
        server = SpiceServer.start(serverConfig.apply(ServerConfig.loopbackWithoutTicketing()
                .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE))));
        deviceLoops = SocketEventLoops.newGroup(1);
        device = new StreamDevice("stream0",
                Transports.load().create(URI.create("unix:" + socket + "?listen"),
                        transportContext.apply(TransportContext.of(deviceLoops, "stream0"))),
                server.channels(), server.mmTime(), deviceConfig, StreamDeviceListener.NONE);
        onDevice(device::createChannels);
        device.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket));
    }

    /** Runs {@code task} on the device executor and waits for it. */
    void onDevice(Runnable task) {
        CompletableFuture.runAsync(task, device.executor()).orTimeout(10, TimeUnit.SECONDS).join();
    }

    /** Evaluates {@code query} on the device executor (device and channel state is confined there). */
    <T> T onDevice(Supplier<T> query) {
        return CompletableFuture.supplyAsync(query, device.executor()).orTimeout(10, TimeUnit.SECONDS).join();
    }

    /** Every client connection of every channel (main, inputs, display, cursor). */
    List<RedChannelClient> allClients() {
        return server.channels().list().stream().flatMap(c -> c.clients().stream()).toList();
    }

    RedChannel display() {
        return device.streamChannel();
    }

    int displayClients() {
        return onDevice(() -> device.streamChannel().clientCount());
    }

    /** Nothing a client or guest made the server hold is left: no session, link, client, queued byte or write. */
    boolean isIdle() {
        return server.sessions().isEmpty() && server.linkingConnections() == 0 && allClients().isEmpty()
                && displayClients() == 0 && onDevice(device::queuedWrites) == 0;
    }

    @Override
    public void close() throws IOException {
        device.close();
        server.close();
        deviceLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(directory);
    }
}
