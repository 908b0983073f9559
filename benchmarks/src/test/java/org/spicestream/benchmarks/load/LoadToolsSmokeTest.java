package org.spicestream.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceServer;
import org.spicestream.streamchannel.StreamChannelConfig;
import org.spicestream.testsupport.ExternalTools;

/**
 * The load tools check themselves in the normal test run: frames flow from the generator through each baseline
 * (the native relay in both modes, the Java relay, the libspice-server reference, all built and started as the
 * runner does) and through the real server (in-process) to the readers, every sequence number arrives once and in
 * order. No timing is asserted.
 */
class LoadToolsSmokeTest {

    static final int FRAME = 64 * 1024;
    static final double FPS = 200;
    static final Duration SEND_TIME = Duration.ofSeconds(30);
    static final Duration WAIT = Duration.ofSeconds(20);
    static final int FRAMES_TO_SEE = 50;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"rw", "splice"})
    void nativeRelayCarriesEveryFrameToEveryReader(String mode) throws Exception {
        ExternalTools.require("gcc", "gcc");
        // relative to the working directory, as the runner's default --out target/perf is
        Path relay = NativeTools.buildRelay(Path.of("").toAbsolutePath().relativize(dir.resolve("native-" + mode)));
        assertThat(relay).isAbsolute();
        Path socket = dir.resolve("guest.sock");
        int port = freePort();
        try (GuestLoadGenerator gen = GuestLoadGenerator.start(
                new GuestLoadGenerator.Options(socket, FRAME, FPS, SEND_TIME, true))) {
            Process p = new ProcessBuilder(relay.toString(), mode, socket.toString(), Integer.toString(port), "3")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
            try (GuestStreamReader readers = connectWhenListening(new InetSocketAddress("127.0.0.1", port), 3, p)) {
                assertFramesFlow(readers.stats());
                assertThat(gen.streaming()).isTrue();
                // stopped while its readers are still there: a reader that left first would end it with a write
                // error (exit 1) before the signal arrived
                p.destroy();
                assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            } finally {
                p.destroy();
                assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            }
            assertThat(p.exitValue()).as("SIGTERM exits 0").isZero();
        }
    }

    @Test
    void libspiceServerReferenceCarriesEveryFrameToEveryClient() throws Exception {
        ExternalTools.require("gcc", "gcc");
        ExternalTools.require("pkg-config", "pkg-config");
        ExternalTools.check(Files.exists(Path.of("/usr/include/spice-server/spice.h")),
                "libspice-server headers (install the Debian package libspice-server-dev)");
        Path cserver = NativeTools.buildCServer(dir.resolve("native"));
        Path socket = dir.resolve("guest.sock");
        int port = freePort();
        try (GuestLoadGenerator gen = GuestLoadGenerator.start(
                new GuestLoadGenerator.Options(socket, FRAME, FPS, SEND_TIME, true))) {
            Process p = new ProcessBuilder(cserver.toString(), socket.toString(), Integer.toString(port))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("cserver.log").toFile()).start();
            try {
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
                await().atMost(WAIT).until(() -> listening(address, p));
                try (SpiceLoadClient clients = SpiceLoadClient.connect(
                        new SpiceLoadClient.Options(address, 2, 0, 0, true))) {
                    assertFramesFlow(clients.stats());
                    assertThat(clients.firstFailure()).isNull();
                }
            } finally {
                p.destroy();
                assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            }
            assertThat(p.exitValue()).as("SIGTERM exits 0").isZero();
        }
    }

    @Test
    void javaRelayCarriesEveryFrameToEveryReader() throws Exception {
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
            // Every frame to every client is what is checked: R10's freshness drop (a client briefly behind the
            // others on a loaded machine skips frames) is off here.
            StreamDeviceConfig config = StreamDeviceConfig.DEFAULT
                    .withChannel(StreamChannelConfig.DEFAULT.withMaxVideoAge(Duration.ZERO));
            StreamDevice d = new StreamDevice("stream0", transport, server.channels(), server.mmTime(), config,
                    StreamDeviceListener.NONE);
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

    private static boolean listening(InetSocketAddress address, Process p) {
        assertThat(p.isAlive()).as("process under test alive").isTrue();
        try (Socket s = new Socket()) {
            s.connect(address);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static GuestStreamReader connectWhenListening(InetSocketAddress address, int n, Process p) {
        GuestStreamReader[] connected = new GuestStreamReader[1];
        await().atMost(WAIT).until(() -> {
            assertThat(p.isAlive()).as("relay alive").isTrue();
            try {
                connected[0] = GuestStreamReader.connect(address, n);
                return true;
            } catch (IOException e) {
                return false;
            }
        });
        return connected[0];
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
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
            assertThat(snap.latency().getTotalCount()).isEqualTo(snap.frames());
        }
    }
}
