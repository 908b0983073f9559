package org.spicestream.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceServer;

/**
 * The load tools check themselves in the normal test run: frames flow from the generator through the raw relay and
 * through the real server (in-process) to the readers, every sequence number arrives once and in order. No timing
 * is asserted.
 */
class LoadToolsSmokeTest {

    static final int FRAME = 64 * 1024;
    static final double FPS = 200;
    static final Duration SEND_TIME = Duration.ofSeconds(30);
    static final Duration WAIT = Duration.ofSeconds(20);
    static final int FRAMES_TO_SEE = 50;

    @TempDir
    Path dir;

    @Test
    void rawRelayCarriesEveryFrameToEveryReader() throws Exception {
        Path socket = dir.resolve("guest.sock");
        try (GuestLoadGenerator gen = GuestLoadGenerator.start(
                        new GuestLoadGenerator.Options(socket, FRAME, FPS, SEND_TIME, true));
                RawRelay relay = new RawRelay(socket, new InetSocketAddress("127.0.0.1", 0), 2)) {
            Thread t = new Thread(relay, "raw-relay");
            t.setDaemon(true);
            t.start();
            try (GuestStreamReader readers = GuestStreamReader.connect(relay.address(), 2)) {
                assertThat(relay.awaitStarted(WAIT)).isTrue();
                assertFramesFlow(readers.stats());
                assertThat(gen.streaming()).isTrue();
            }
        }
    }

    @Test
    void serverCarriesEveryFrameToSizedAndPlainClients() throws Exception {
        Path socket = dir.resolve("guest.sock");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        SpiceServer server = null;
        StreamDevice device = null;
        try (GuestLoadGenerator gen = GuestLoadGenerator.start(
                new GuestLoadGenerator.Options(socket, FRAME, FPS, SEND_TIME, true))) {
            server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                    .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)), group);
            // The generator listens as QEMU's chardev does; the device connects to it.
            GuestTransport transport = Transports.load().create(URI.create("unix:" + socket),
                    TransportContext.of(group, "stream0"));
            StreamDevice d = new StreamDevice("stream0", transport, server.channels(), server.mmTime());
            device = d;
            d.executor().submit(d::createChannels).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            d.start();
            InetSocketAddress address = server.localAddress();
            try (SpiceLoadClient sized = SpiceLoadClient.connect(new SpiceLoadClient.Options(address, 2, 0, 0, true));
                    SpiceLoadClient plain = SpiceLoadClient.connect(new SpiceLoadClient.Options(address, 1, 0, 0, false))) {
                List<FrameStats> all = new ArrayList<>(sized.stats());
                all.addAll(plain.stats());
                assertFramesFlow(all);
                assertThat(sized.firstFailure()).isNull();
                assertThat(plain.firstFailure()).isNull();
            }
        } finally {
            if (server != null) {
                server.close();
            }
            if (device != null) {
                device.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void assertFramesFlow(List<FrameStats> stats) {
        await().atMost(WAIT).until(() -> stats.stream().allMatch(s -> s.snapshot().frames() >= FRAMES_TO_SEE));
        for (FrameStats s : stats) {
            FrameStats.Snapshot snap = s.snapshot();
            assertThat(snap.missing()).as("%s: frames missing", s.name()).isZero();
            assertThat(snap.reordered()).as("%s: frames out of order", s.name()).isZero();
            assertThat(snap.bytes()).isEqualTo(snap.frames() * FRAME);
            assertThat(s.lastSequence()).isGreaterThanOrEqualTo(FRAMES_TO_SEE - 1);
            assertThat(snap.latency().count()).isEqualTo(snap.frames());
        }
    }
}
