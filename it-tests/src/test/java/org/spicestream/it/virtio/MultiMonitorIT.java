package org.spicestream.it.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.it.clients.SpiceGtkProbe;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.it.stream.TestGuestAgent;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceServer;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.transport.socket.SocketEventLoops;

/**
 * Multi-monitor: two stream devices on one server (one per {@code --device}) give two display channels, ids 0 and
 * 1, and spice-gtk shows both, each with its own guest's picture size. The guests are Java agents on the socket
 * transport (the transport does not matter here).
 */
class MultiMonitorIT {

    private static final Logger LOG = LoggerFactory.getLogger(MultiMonitorIT.class);
    private static final int FRAMES_PER_DISPLAY = 15;
    private static final double PROBE_TIMEOUT_SECONDS = 40;
    private static final int FPS = 30;
    private static final int[][] SIZES = {{320, 240}, {256, 192}};

    @Test
    void twoDevicesGiveTwoDisplaysThatSpiceGtkShows(@TempDir Path dir) throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
        MultiThreadIoEventLoopGroup loops = SocketEventLoops.newGroup(2);
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            SpiceServer server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                    .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)));
            resources.add(server);
            List<StreamDevice> devices = new ArrayList<>();
            for (int i = 0; i < SIZES.length; i++) {
                String name = "stream" + i;
                Path socket = dir.resolve(name + ".sock");
                StreamDevice device = new StreamDevice(name,
                        Transports.load().create(URI.create("unix:" + socket + "?listen"), TransportContext.of(loops, name)),
                        server.channels(), server.mmTime(), StreamDeviceConfig.DEFAULT, StreamDeviceListener.NONE);
                // Registered in --device order, so the display channel ids are 0, 1, ...
                CompletableFuture.runAsync(device::createChannels, device.executor()).get(10, TimeUnit.SECONDS);
                device.start();
                resources.add(device);
                devices.add(device);
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(socket));
                EncodedStream stream = TestMedia.mjpeg(SIZES[i][0], SIZES[i][1], 30);
                resources.add(new TestGuestAgent(socket, Map.of(VideoCodec.MJPEG, stream), FPS).open());
            }
            assertThat(devices.get(0).streamChannel().id()).isZero();
            assertThat(devices.get(1).streamChannel().id()).isEqualTo(1);

            Map<String, String> seen = runProbe(server.localAddress(), dir.resolve("shown.png"));
            LOG.info("spice-gtk saw {}", seen);
            assertThat(seen.get("error")).isEmpty();
            assertThat(seen.get("displays_opened")).isEqualTo("2");
            for (int i = 0; i < SIZES.length; i++) {
                assertThat(seen.get("display_" + i + "_width")).as("display %d width", i).isEqualTo("" + SIZES[i][0]);
                assertThat(seen.get("display_" + i + "_height")).as("display %d height", i).isEqualTo("" + SIZES[i][1]);
                assertThat(Long.parseLong(seen.get("display_" + i + "_invalidates"))).as("frames shown on display %d", i)
                        .isGreaterThanOrEqualTo(FRAMES_PER_DISPLAY);
            }
            for (StreamDevice d : devices) {
                assertThat(d.framesIn()).isPositive();
                assertThat(d.protocolErrors()).isZero();
            }
        } finally {
            for (int i = resources.size() - 1; i >= 0; i--) {
                resources.get(i).close();
            }
            loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Runs the spice-gtk probe script waiting for frames on two displays; returns its flat JSON result. */
    private static Map<String, String> runProbe(InetSocketAddress server, Path png) throws Exception {
        Path script = Files.createTempFile("display_probe", ".py");
        try {
            try (InputStream in = MultiMonitorIT.class.getResourceAsStream("/probes/display_probe.py")) {
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
            Process p = new ProcessBuilder("/usr/bin/python3", script.toString(),
                    "--uri", "spice://" + server.getHostString() + ":" + server.getPort(),
                    "--frames", Integer.toString(FRAMES_PER_DISPLAY), "--displays", Integer.toString(SIZES.length),
                    "--timeout", Double.toString(PROBE_TIMEOUT_SECONDS), "--png", png.toString())
                    .redirectErrorStream(true).start();
            String output;
            try (InputStream in = p.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor((long) PROBE_TIMEOUT_SECONDS + 30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("spice-gtk probe did not exit:\n" + output);
            }
            String[] lines = output.strip().split("\n");
            String last = lines[lines.length - 1];
            if (!last.startsWith("{")) {
                throw new AssertionError("spice-gtk probe printed no result:\n" + output);
            }
            Map<String, String> values = new HashMap<>();
            Matcher m = Pattern.compile("\"([a-z_0-9]+)\":\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.eE+]+|true|false|null)")
                    .matcher(last);
            while (m.find()) {
                values.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(2));
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
