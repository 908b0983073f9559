package org.spicestream.it.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.it.qemu.GuestKit;
import org.spicestream.it.qemu.QemuGuest;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.testsupport.ExternalTools;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.TestMedia;

/**
 * Two real QEMU guests as two VMs of one spice-streamd process (the shaded jar), added with {@code spice-streamd
 * ctl} as {@code virtio:CHARDEV?qmp=QMP}: each streams to a SPICE client that reached its VM through the shared port
 * by CONNECT, and a key pressed at one VM's client reaches that guest's keyboard only.
 */
class TwoQemuVmsIT {

    private static final Duration STEP = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final int[] MJPEG_DISPLAY_CAPS = {1, 4, 9};
    private static final int MSG_STREAM_CREATE = 122;
    private static final int MSG_STREAM_DATA = 123;
    /** Scan code of A (Linux key 30) for VM "left", of B (Linux key 48) for VM "right". */
    private static final int SCAN_A = 0x1E;
    private static final int SCAN_B = 0x30;
    private static final Pattern READY = Pattern.compile("spice-streamd ready: connect with remote-viewer spice://"
            + "127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private Process server;
    private Path serverLog;
    private final List<QemuGuest> guests = new ArrayList<>();

    @BeforeAll
    static void tools() {
        GuestKit.requireTools();
        ExternalTools.require("ffmpeg", "ffmpeg");
    }

    @AfterEach
    void stop() throws Exception {
        guests.forEach(QemuGuest::close);
        if (server != null) {
            server.destroy();
            boolean exited = server.waitFor(10, TimeUnit.SECONDS);
            server.destroyForcibly();
            System.out.println("---- spice-streamd output ----\n" + Files.readString(serverLog));
            assertThat(exited).isTrue();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty(DemoRemoteViewerIT.JAR_PROPERTY, DemoRemoteViewerIT.DEFAULT_JAR.toString()))
                .toAbsolutePath().normalize();
        assertThat(jar).exists();
        return jar;
    }

    private void ctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar().toString(), "ctl", "--control",
                "unix:" + dir.resolve("c.sock")));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("ctl %s:\n%s", List.of(args), out).isZero();
    }

    @Test
    void twoGuestsStreamToTheirOwnClientsAndKeysReachOnlyTheirVm() throws Exception {
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 60);
        QemuGuest left = QemuGuest.builder().name("left").stream(mjpeg).paused().start();
        guests.add(left);
        QemuGuest right = QemuGuest.builder().name("right").stream(mjpeg).paused().start();
        guests.add(right);

        serverLog = dir.resolve("spice-streamd.log");
        server = new ProcessBuilder(java(), "-jar", jar().toString(), "--listen", "127.0.0.1:0", "--control",
                "unix:" + dir.resolve("c.sock")).redirectErrorStream(true).redirectOutput(serverLog.toFile()).start();
        int[] shared = new int[1];
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(server.isAlive()).as("spice-streamd exited early:\n%s", Files.readString(serverLog)).isTrue();
            Matcher m = READY.matcher(Files.readString(serverLog));
            if (m.find()) {
                shared[0] = Integer.parseInt(m.group(1));
                return true;
            }
            return false;
        });
        for (QemuGuest g : guests) {
            String name = g == left ? "left" : "right";
            ctl("add", name, "--disable-ticketing", "--device", "virtio:" + g.chardevSocket() + "?qmp="
                    + g.serverQmpSocket() + "&port=" + QemuGuest.PORT_ID);
        }
        left.resume();
        right.resume();

        java.net.InetSocketAddress door = new java.net.InetSocketAddress("127.0.0.1", shared[0]);
        try (SpiceTestClient mainL = SpiceTestClient.connect(door, SpiceTestClient.options().httpConnect("left:5900"));
                SpiceTestClient mainR = SpiceTestClient.connect(door, SpiceTestClient.options().httpConnect("right:5900"));
                SpiceTestClient displayL = mainL.linkChannel(SpiceChannelType.DISPLAY, 0, MJPEG_DISPLAY_CAPS);
                SpiceTestClient displayR = mainR.linkChannel(SpiceChannelType.DISPLAY, 0, MJPEG_DISPLAY_CAPS);
                SpiceTestClient inputsL = mainL.linkChannel(SpiceChannelType.INPUTS, 0);
                SpiceTestClient inputsR = mainR.linkChannel(SpiceChannelType.INPUTS, 0)) {
            assertThat(List.of(mainL.linkResult(), mainR.linkResult(), displayL.linkResult(), displayR.linkResult(),
                    inputsL.linkResult(), inputsR.linkResult())).containsOnly(0);
            awaitType(displayL, MSG_STREAM_CREATE, QemuGuest.BOOT_TIMEOUT);
            awaitType(displayR, MSG_STREAM_CREATE, QemuGuest.BOOT_TIMEOUT);
            awaitType(displayL, MSG_STREAM_DATA, STEP);
            awaitType(displayR, MSG_STREAM_DATA, STEP);
            left.awaitConsole("AGENT port-open", STEP);
            right.awaitConsole("AGENT port-open", STEP);

            int markL = left.consoleMark();
            int markR = right.consoleMark();
            inputsL.send(SpiceMessages.MSGC_INPUTS_KEY_DOWN, le32(SCAN_A));
            inputsL.send(SpiceMessages.MSGC_INPUTS_KEY_UP, le32(SCAN_A | 0x80));
            inputsR.send(SpiceMessages.MSGC_INPUTS_KEY_DOWN, le32(SCAN_B));
            inputsR.send(SpiceMessages.MSGC_INPUTS_KEY_UP, le32(SCAN_B | 0x80));
            left.awaitConsoleSince(markL, Pattern.compile("AGENT key 30 0"), STEP);
            right.awaitConsoleSince(markR, Pattern.compile("AGENT key 48 0"), STEP);
            // each VM got its own key only (both keys' releases are in, so nothing else is on its way)
            assertThat(linesSince(left, markL)).noneMatch(l -> l.contains("AGENT key 48"));
            assertThat(linesSince(right, markR)).noneMatch(l -> l.contains("AGENT key 30"));
        }
    }

    private static List<String> linesSince(QemuGuest g, int mark) {
        List<String> all = g.consoleLines();
        return all.subList(Math.min(mark, all.size()), all.size());
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static void awaitType(SpiceTestClient c, int type, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (c.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))).type() != type) {
            // skip other messages
        }
    }
}
