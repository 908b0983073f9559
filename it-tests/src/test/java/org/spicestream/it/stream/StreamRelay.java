package org.spicestream.it.stream;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceServer;
import org.spicestream.transport.socket.SocketEventLoops;

/** A SPICE server with one stream device listening on a unix socket for its guest, as tests need it. */
public final class StreamRelay implements AutoCloseable {

    final Path directory;
    public final Path socket;
    public final SpiceServer server;
    final MultiThreadIoEventLoopGroup deviceLoops;
    final StreamDevice device;

    StreamRelay(SessionPolicy policy, StreamDeviceConfig config, StreamDeviceListener listener) throws IOException {
        this(policy, config, listener, UnaryOperator.identity());
    }

    /** A relay whose server configuration {@code serverConfig} may extend (web root, TLS, ...). */
    public StreamRelay(SessionPolicy policy, UnaryOperator<ServerConfig> serverConfig) throws IOException {
        this(policy, StreamDeviceConfig.DEFAULT, StreamDeviceListener.NONE, serverConfig);
    }

    private StreamRelay(SessionPolicy policy, StreamDeviceConfig config, StreamDeviceListener listener,
            UnaryOperator<ServerConfig> serverConfig) throws IOException {
        directory = Files.createTempDirectory("spicestream-it");
        socket = directory.resolve("stream0.sock");
        server = SpiceServer.start(serverConfig.apply(ServerConfig.loopbackWithoutTicketing()
                .withSessions(SessionConfig.DEFAULT.withPolicy(policy))));
        deviceLoops = SocketEventLoops.newGroup(1);
        device = new StreamDevice("stream0",
                Transports.load().create(URI.create("unix:" + socket + "?listen"),
                        TransportContext.of(deviceLoops, "stream0")),
                server.channels(), server.mmTime(), config, listener);
        onDevice(device::createChannels);
        device.start();
    }

    StreamRelay(SessionPolicy policy) throws IOException {
        this(policy, StreamDeviceConfig.DEFAULT, StreamDeviceListener.NONE);
    }

    /** Runs {@code task} on the device executor and waits for it. */
    void onDevice(Runnable task) {
        CompletableFuture.runAsync(task, device.executor()).orTimeout(10, TimeUnit.SECONDS).join();
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
