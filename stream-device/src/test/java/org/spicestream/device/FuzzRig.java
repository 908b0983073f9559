package org.spicestream.device;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.streamchannel.internal.DisplayMessages;

/**
 * One server with one stream device and live clients, shared by every input of a fuzz target (setting it up per
 * input would leave no time for fuzzing). Clients that the server disconnected are linked again on demand.
 */
final class FuzzRig {

    enum Target {
        MAIN(SpiceChannelType.MAIN),
        DISPLAY(SpiceChannelType.DISPLAY),
        CURSOR(SpiceChannelType.CURSOR),
        INPUTS(SpiceChannelType.INPUTS);

        final int channelType;

        Target(int channelType) {
            this.channelType = channelType;
        }
    }

    private static FuzzRig instance;

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    final LocalGuestTransport transport = new LocalGuestTransport(group, "fuzz");
    final SpiceServer server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
            .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE).withMaxSessions(64)));
    final StreamDevice device = new StreamDevice("fuzz-device", transport, server.channels(), server.mmTime(),
            StreamDeviceConfig.DEFAULT.withLimits(StreamDeviceConfig.DEFAULT.limits().withMaxDataSize(64 * 1024)),
            StreamDeviceListener.NONE);
    /** The guest agent's port, open for the other targets (so that main-channel AGENT_* reach an agent). */
    final AgentDevice agent = new AgentDevice("fuzz-agent", new LocalGuestTransport(group, "fuzz-agent"), server.agent());
    private SpiceTestClient main;
    private final Map<Target, SpiceTestClient> clients = new EnumMap<>(Target.class);

    private FuzzRig() {
        device.start();
        onDevice(device::createChannels);
        agent.start();
        onAgent(agent::portOpened);
    }

    void onAgent(Runnable task) {
        CompletableFuture.runAsync(task, agent.executor()).orTimeout(30, TimeUnit.SECONDS).join();
    }

    static synchronized FuzzRig get() {
        if (instance == null) {
            instance = new FuzzRig();
            Runtime.getRuntime().addShutdownHook(new Thread(instance::close));
        }
        return instance;
    }

    void onDevice(Runnable task) {
        CompletableFuture.runAsync(task, device.executor()).orTimeout(30, TimeUnit.SECONDS).join();
    }

    /**
     * A linked client on {@code target}, linked again if the server closed the last one. The server may close the
     * main connection at any moment (it is fuzzed too), so a failed link is retried on a fresh session.
     */
    synchronized SpiceTestClient client(Target target) {
        RuntimeException last = null;
        for (int attempt = 0; attempt < LINK_ATTEMPTS; attempt++) {
            try {
                return link(target);
            } catch (Exception | AssertionError e) {
                // Netty rethrows a ClosedChannelException unchecked from sync(): catch every kind.
                last = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                if (main != null) {
                    main.close();
                }
                main = null;
            }
        }
        throw last;
    }

    /** Attempts before a fuzz input counts as failing to reach the server at all. */
    static final int LINK_ATTEMPTS = 5;

    private SpiceTestClient link(Target target) {
        if (main == null || !main.isOpen()) {
            main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                    .channelCaps(SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS));
            main.send(SpiceMessages.MSGC_MAIN_AGENT_START, new byte[] {-1, -1, -1, -1});
            clients.values().forEach(SpiceTestClient::close);
            clients.clear();
        }
        if (target == Target.MAIN) {
            return main;
        }
        SpiceTestClient c = clients.get(target);
        if (c == null || !c.isOpen()) {
            c = target == Target.DISPLAY
                    ? main.linkChannel(target.channelType, 0, DisplayMessages.CAP_STREAM_REPORT,
                            DisplayMessages.CAP_MULTI_CODEC, 9, 10, 11)
                    : main.linkChannel(target.channelType, 0);
            clients.put(target, c);
        }
        return c;
    }

    /** Forgets what the clients received so far (the test client keeps everything otherwise). */
    synchronized void drainClients() {
        if (main != null) {
            main.drain();
        }
        clients.values().forEach(SpiceTestClient::drain);
    }

    synchronized void close() {
        clients.values().forEach(SpiceTestClient::close);
        if (main != null) {
            main.close();
        }
        device.close();
        agent.close();
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
