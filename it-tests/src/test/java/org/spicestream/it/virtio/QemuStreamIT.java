package org.spicestream.it.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.streamchannel.internal.DisplayMessages.CAP_MONITORS_CONFIG;
import static org.spicestream.streamchannel.internal.DisplayMessages.CAP_STREAM_REPORT;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_CREATE;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA_SIZED;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
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
import org.spicestream.it.qemu.GuestKit;
import org.spicestream.it.qemu.QemuGuest;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.SpiceTestClient.Message;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.transport.socket.SocketEventLoops;
import org.spicestream.transport.virtio.QmpConnection;
import org.spicestream.transport.virtio.QmpInputSink;
import org.spicestream.transport.virtio.VirtioGuestTransport;

/**
 * The whole pipeline with a real VM: QEMU (TCG) boots the tiny guest whose agent streams a recorded MJPEG stream
 * into the virtio port {@code org.spice-space.stream.0}; the server under test reads it through {@code
 * virtio:<chardev>?qmp=<its own QMP socket>}; a SPICE protocol client and spice-gtk show it. The guest closing and
 * reopening its port (seen through QMP) resets and resumes the stream, a killed and restarted QEMU is found again,
 * and a key pressed at a SPICE client reaches the guest through {@link QmpInputSink}.
 */
class QemuStreamIT {

    private static final Logger LOG = LoggerFactory.getLogger(QemuStreamIT.class);

    /** Longest wait for one step once the guest runs. */
    private static final Duration STEP = Duration.ofSeconds(30);
    /** The guest keeps its port closed longer than QEMU's 1 s VSERPORT_CHANGE rate limit, so both events show. */
    private static final int SLOW_REOPEN_MS = 1500;
    /** A reopen inside the rate limit: QEMU may merge close and open into one open=true. */
    private static final int QUICK_REOPEN_MS = 200;
    private static final int[] MJPEG_DISPLAY_CAPS = {CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, 9};
    private static final int GTK_FRAMES = 20;
    private static final int KEY_A_SCANCODE = 0x1E;
    private static final int KEY_A_LINUX = 30;
    private static final String DEVICE_ADDRESS = "pci/0000/02.0";
    /** Header (version 1, type 8 = DEVICE_DISPLAY_INFO, 26 bytes), stream 0, display 1, address with its NUL. */
    private static final String DEVICE_DISPLAY_INFO_HEX = "01000800 1a000000 00000000 01000000 0e000000 "
            + java.util.HexFormat.of().formatHex((DEVICE_ADDRESS + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII));

    @BeforeAll
    static void tools() {
        GuestKit.requireTools();
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
    }

    @Test
    void guestStreamReachesSpiceClientsThroughVirtioAcrossReopenAndQemuRestartAndKeysReachTheGuest(
            @TempDir Path dir) throws Exception {
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 60);
        MultiThreadIoEventLoopGroup loops = SocketEventLoops.newGroup(1);
        try (QemuGuest guest = QemuGuest.builder().name("virtio-it").stream(mjpeg).paused().start()) {
            URI uri = URI.create("virtio:" + guest.chardevSocket() + "?qmp=" + guest.serverQmpSocket() + "&port="
                    + QemuGuest.PORT_ID);
            VirtioGuestTransport transport = (VirtioGuestTransport) Transports.load()
                    .create(uri, TransportContext.of(loops, "stream0"));
            QmpInputSink inputSink = transport.inputSink().orElseThrow();
            SpiceServer server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                    .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)).withInputSink(inputSink));
            StreamDevice device = new StreamDevice("stream0", transport, server.channels(), server.mmTime(),
                    StreamDeviceConfig.DEFAULT, StreamDeviceListener.NONE);
            try (server; device;
                    SpiceTestClient main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options())) {
                CompletableFuture.runAsync(device::createChannels, device.executor()).get(10, TimeUnit.SECONDS);
                device.start();
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0, MJPEG_DISPLAY_CAPS);
                assertThat(display.linkResult()).isZero();

                // The server's QMP client is attached before the guest runs, so it sees the guest's first open.
                QmpConnection qmp = transport.qmp().orElseThrow();
                await().atMost(STEP).until(qmp::isReady);
                long resumed = System.nanoTime();
                guest.resume();
                awaitType(display, MSG_STREAM_CREATE, QemuGuest.BOOT_TIMEOUT);
                awaitFrame(display, STEP);
                long firstFrame = System.nanoTime();
                LOG.info("QEMU boot to first frame at a SPICE client through virtio: {} ms from QEMU start, {} ms"
                        + " from resume", (firstFrame - guest.startNanos()) / 1_000_000,
                        (firstFrame - resumed) / 1_000_000);
                guest.awaitConsole("AGENT port-open", STEP);
                assertThat(transport.portEvents()).as("VSERPORT_CHANGE open seen").isGreaterThanOrEqualTo(1);
                assertThat(device.isPortOpen()).isTrue();

                // spice-gtk, the real client, shows the guest's frames.
                SpiceGtkProbe.Result seen = SpiceGtkProbe.run(server.localAddress(), null, GTK_FRAMES,
                        dir.resolve("virtio.png"), 40);
                LOG.info("spice-gtk saw {}", seen);
                assertThat(seen.string("error")).as(seen.output()).isEmpty();
                assertThat(seen.number("primary_width")).isEqualTo(320);
                assertThat(seen.number("primary_height")).isEqualTo(240);
                assertThat(seen.number("invalidates")).isGreaterThanOrEqualTo(GTK_FRAMES);

                // A key pressed at a SPICE client's inputs channel reaches the guest's keyboard through QMP.
                try (SpiceTestClient inputs = main.linkChannel(SpiceChannelType.INPUTS, 0)) {
                    assertThat(inputs.linkResult()).isZero();
                    int mark = guest.consoleMark();
                    inputs.send(SpiceMessages.MSGC_INPUTS_KEY_DOWN, le32(KEY_A_SCANCODE));
                    inputs.send(SpiceMessages.MSGC_INPUTS_KEY_UP, le32(KEY_A_SCANCODE | 0x80));
                    guest.awaitConsoleSince(mark, java.util.regex.Pattern.compile("AGENT key " + KEY_A_LINUX + " 1"),
                            STEP);
                    guest.awaitConsoleSince(mark, java.util.regex.Pattern.compile("AGENT key " + KEY_A_LINUX + " 0"),
                            STEP);
                    await().atMost(STEP).until(() -> inputSink.sentEvents() >= 2);
                }

                // DEVICE_DISPLAY_INFO from the guest (raw bytes typed on its console, queued after whole messages)
                // is kept per device (stream 0, display 1 of pci/0000/02.0).
                guest.sendConsole("send " + DEVICE_DISPLAY_INFO_HEX);
                guest.awaitConsole("AGENT sent 34", STEP);
                await().atMost(STEP).until(() -> device.displayInfo() != null);
                assertThat(device.displayInfo().deviceDisplayId()).isEqualTo(1);
                assertThat(device.displayInfo().deviceAddress()).isEqualTo(DEVICE_ADDRESS);

                // The guest closes and reopens its port: QMP shows both, the device resets twice and the stream
                // restarts (new STREAM_CREATE at the client).
                long resets = device.resets();
                long events = transport.portEvents();
                guest.sendConsole("reopen " + SLOW_REOPEN_MS);
                guest.awaitConsole("AGENT port-closed", STEP);
                guest.awaitConsole("AGENT port-open", STEP);
                await().atMost(STEP).until(() -> transport.portEvents() >= events + 2 && device.resets() >= resets + 2);
                awaitType(display, MSG_STREAM_CREATE, STEP);
                awaitFrame(display, STEP);
                LOG.info("slow reopen: {} port events, {} resets", transport.portEvents() - events,
                        device.resets() - resets);

                // Reopened again right away (inside QEMU's rate limit): the events may merge into one open=true,
                // which the transport takes as close + open; either way the device resets and the stream restarts.
                long resets2 = device.resets();
                long merged = transport.mergedReopens();
                guest.sendConsole("reopen " + QUICK_REOPEN_MS);
                guest.awaitConsole("AGENT port-closed", STEP);
                guest.awaitConsole("AGENT port-open", STEP);
                await().atMost(STEP).until(() -> device.resets() >= resets2 + 2);
                awaitType(display, MSG_STREAM_CREATE, STEP);
                awaitFrame(display, STEP);
                LOG.info("quick reopen: {} resets, {} merged reopen(s)", device.resets() - resets2,
                        transport.mergedReopens() - merged);

                // QEMU dies and comes back on the same sockets: the server reconnects and the stream resumes.
                long resets3 = device.resets();
                long qmpConnections = qmp.connections();
                guest.restart();
                await().atMost(STEP).until(() -> !device.isPortOpen() && device.resets() > resets3);
                await().atMost(STEP).until(() -> qmp.connections() > qmpConnections && qmp.isReady());
                long restarted = System.nanoTime();
                guest.resume();
                awaitType(display, MSG_STREAM_CREATE, QemuGuest.BOOT_TIMEOUT);
                awaitFrame(display, STEP);
                LOG.info("QEMU restart to first frame: {} ms from QEMU start, {} ms from resume",
                        (System.nanoTime() - guest.startNanos()) / 1_000_000, (System.nanoTime() - restarted) / 1_000_000);
                assertThat(transport.isChardevConnected()).isTrue();
                assertThat(device.protocolErrors()).isZero();
            } finally {
                loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static Message awaitType(SpiceTestClient c, int type, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Message m = c.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (m.type() == type) {
                return m;
            }
        }
    }

    private static Message awaitFrame(SpiceTestClient c, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Message m = c.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (m.type() == MSG_STREAM_DATA || m.type() == MSG_STREAM_DATA_SIZED) {
                return m;
            }
        }
    }
}
