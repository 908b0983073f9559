package org.spicestream.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.spicestream.it.qemu.RawStreamHost.CAPABILITIES;
import static org.spicestream.it.qemu.RawStreamHost.CURSOR_MOVE;
import static org.spicestream.it.qemu.RawStreamHost.CURSOR_SET;
import static org.spicestream.it.qemu.RawStreamHost.DATA;
import static org.spicestream.it.qemu.RawStreamHost.FORMAT;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.media.Bitstreams;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.it.qemu.RawStreamHost.Message;
import org.spicestream.testsupport.ExternalTools;

/**
 * The guest kit works for real: a QEMU guest streams into the virtio port, and a test playing the
 * host (raw bytes on QEMU's chardev socket) sees the protocol, port events and keys.
 */
class QemuGuestKitIT {

    private static final Logger LOG = LoggerFactory.getLogger(QemuGuestKitIT.class);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STEP = Duration.ofSeconds(20);
    private static final int MJPEG = VideoCodec.MJPEG.wireValue();
    private static final int H264 = VideoCodec.H264.wireValue();
    private static final int FRAMES_TO_CHECK = 12;
    /** Longer than QEMU's 1 s VSERPORT_CHANGE rate limit. */
    private static final int PORT_CLOSED_MS = 1500;

    @BeforeAll
    static void tools() {
        GuestKit.requireTools();
        ExternalTools.require("ffmpeg", "ffmpeg");
    }

    @Test
    void mjpegGuestStreamsSurvivesPortAndHostReconnectsAndReportsKeys() {
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 60);
        try (QemuGuest guest = QemuGuest.builder().name("kit-mjpeg").stream(mjpeg).start()) {
            QmpClient qmp = guest.qmp();
            RawStreamHost host = RawStreamHost.connect(guest.chardevSocket(), SOCKET_TIMEOUT);

            // The host speaks first (protocol §6); QEMU holds the bytes until the guest opens the port.
            host.sendCapabilities((byte) 0);
            host.sendStartStop(MJPEG);
            List<Message> session = receiveUntilFrames(host, FRAMES_TO_CHECK, QemuGuest.BOOT_TIMEOUT);
            Message firstData = session.stream().filter(m -> m.type() == DATA).findFirst().orElseThrow();
            Duration bootToFirstFrame = Duration.ofNanos(firstData.receivedNanos() - guest.startNanos());
            LOG.info("boot to first frame: {} ms", bootToFirstFrame.toMillis());

            assertSession(session, mjpeg, 0);
            qmp.awaitPortChange(QemuGuest.PORT_ID, true, STEP);
            guest.awaitConsole("AGENT caps 00", STEP);
            guest.awaitConsole("AGENT start codecs=1$", STEP);
            guest.awaitConsole("AGENT format 320x240 codec=1", STEP);
            guest.awaitConsole("AGENT frames \\d+", STEP);

            // Guest closes and reopens its end: QMP reports both, the host's socket stays connected
            // (QEMU does not close the chardev for a guest-side close), and the guest starts afresh.
            // QEMU sends at most one VSERPORT_CHANGE per second per port and a newer one replaces a
            // held-back one, so a quicker close/open can show up as a lone open=true: stay closed
            // longer than that.
            guest.sendConsole("reopen " + PORT_CLOSED_MS);
            qmp.awaitPortChange(QemuGuest.PORT_ID, false, STEP);
            qmp.awaitPortChange(QemuGuest.PORT_ID, true, STEP);
            guest.awaitConsole("AGENT port-closed", STEP);
            guest.awaitConsole("AGENT port-open", STEP);
            assertThat(host.isEof()).as("EOF on the host socket after a guest reopen").isFalse();
            host.sendCapabilities((byte) 0);
            host.sendStartStop(MJPEG);
            host.await(CAPABILITIES, STEP); // earlier messages were the old session's
            assertSession(receiveUntilFrames(host, 3, STEP), mjpeg, 0);

            // The host goes away and comes back: the guest waits (no exit) and starts again.
            int mark = guest.consoleMark();
            host.close();
            guest.awaitConsole("AGENT host-disconnected", STEP);
            RawStreamHost host2 = RawStreamHost.connect(guest.chardevSocket(), SOCKET_TIMEOUT);
            guest.awaitConsole("AGENT host-connected", STEP);
            host2.sendCapabilities((byte) 0);
            host2.sendStartStop(1, 2, 3);
            List<Message> again = receiveUntilFrames(host2, 3, STEP);
            assertThat(again.get(0).type()).isEqualTo(CAPABILITIES);
            assertSession(again, mjpeg, 0);
            assertThat(guest.consoleLines().subList(mark, guest.consoleMark())).noneMatch(l -> l.contains("AGENT exited"));

            // NOTIFY_ERROR is logged; START_STOP without codecs stops the frames.
            host2.sendNotifyError("Protocol error");
            guest.awaitConsole("AGENT notify-error Protocol error", STEP);
            host2.sendStartStop();
            guest.awaitConsole("AGENT stop", STEP);
            long stoppedAt = System.nanoTime();
            List<Message> afterStop = collectFor(host2, Duration.ofSeconds(2));
            // Frames written before the stop may still be on their way for a moment.
            assertThat(afterStop).noneMatch(m -> m.type() == DATA && m.receivedNanos() - stoppedAt > 500_000_000L);

            // Raw bytes typed on the console reach the host as they are (for protocol-error tests).
            guest.sendConsole("send 01000200 08000000 0102030405060708");
            guest.awaitConsole("AGENT sent 16", STEP);
            Message shortFormat = host2.await(FORMAT, STEP);
            assertThat(shortFormat.payload()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);

            // A key pressed through QMP reaches the guest's AT keyboard (KEY_A = 30).
            qmp.sendKey("a");
            guest.awaitConsole("AGENT key 30 1", STEP);
            guest.awaitConsole("AGENT key 30 0", STEP);

            guest.sendConsole("quit");
            guest.awaitConsole("AGENT quit", STEP);
            assertThat(guest.awaitExit(STEP)).isZero();
            host2.close();
        }
    }

    @Test
    void guestPlaysTheFirstOfferedCodecFromAKeyFrameAndComesBackAfterAQemuRestart() {
        EncodedStream h264 = TestMedia.h264(320, 240, 60);
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 60);
        try (QemuGuest guest = QemuGuest.builder().name("kit-h264").stream(h264).stream(mjpeg).agentArgs("-m", "0").paused().start()) {
            // A second QMP client (the server's, in later tests) attached before the guest runs sees its first open.
            QmpClient serverQmp = QmpClient.connect(guest.serverQmpSocket(), SOCKET_TIMEOUT);
            guest.resume();
            RawStreamHost host = RawStreamHost.connect(guest.chardevSocket(), SOCKET_TIMEOUT);
            host.sendCapabilities((byte) 0);
            host.sendStartStop(MJPEG, H264);
            List<Message> session = receiveUntilFrames(host, FRAMES_TO_CHECK, QemuGuest.BOOT_TIMEOUT);
            serverQmp.awaitPortChange(QemuGuest.PORT_ID, true, STEP);
            serverQmp.close();
            assertSession(session, h264, 0);
            assertThat(session).noneMatch(m -> m.type() == CURSOR_MOVE);
            Message first = session.stream().filter(m -> m.type() == DATA).findFirst().orElseThrow();
            assertThat(Bitstreams.isKeyFrame(VideoCodec.H264, first.payload())).isTrue();

            // Only MJPEG offered to a fresh session: the agent falls back to its second stream.
            host.sendCapabilities((byte) 0);
            host.sendStartStop(MJPEG);
            host.await(CAPABILITIES, STEP);
            assertSession(receiveUntilFrames(host, 3, STEP), mjpeg, 0);

            // QEMU dies: the host's socket ends; a new QEMU on the same path takes a new connection.
            guest.restart();
            awaitEof(host);
            guest.resume();
            RawStreamHost again = RawStreamHost.connect(guest.chardevSocket(), SOCKET_TIMEOUT);
            again.sendCapabilities((byte) 0);
            again.sendStartStop(H264);
            List<Message> second = receiveUntilFrames(again, 3, QemuGuest.BOOT_TIMEOUT);
            Message firstAgain = second.stream().filter(m -> m.type() == DATA).findFirst().orElseThrow();
            LOG.info("restart to first frame: {} ms", (firstAgain.receivedNanos() - guest.startNanos()) / 1_000_000);
            assertSession(second, h264, 0);
            again.close();
        }
    }

    /** Messages in arrival order up to and including the {@code frames}-th DATA. */
    private static List<Message> receiveUntilFrames(RawStreamHost host, int frames, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Message> out = new ArrayList<>();
        int data = 0;
        while (data < frames) {
            Message m = host.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            out.add(m);
            if (m.type() == DATA) {
                data++;
            }
        }
        return out;
    }

    private static List<Message> collectFor(RawStreamHost host, Duration window) {
        long deadline = System.nanoTime() + window.toNanos();
        List<Message> out = new ArrayList<>();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return out;
            }
            Optional<Message> m = host.poll(Duration.ofNanos(left));
            m.ifPresent(out::add);
        }
    }

    private static void awaitEof(RawStreamHost host) {
        try {
            collectFor(host, STEP);
        } catch (AssertionError expected) {
            assertThat(host.isEof()).isTrue();
            return;
        }
        throw new AssertionError("the host socket did not end when QEMU was killed");
    }

    /**
     * One guest session: CAPABILITIES (1 zero byte) first if present, a CURSOR_SET before or
     * after, FORMAT before any DATA matching the stream, and DATA that are the stream's frames in
     * order from {@code firstFrame}.
     */
    private static void assertSession(List<Message> messages, EncodedStream stream, int firstFrame) {
        int format = -1;
        int frame = firstFrame;
        for (int i = 0; i < messages.size(); i++) {
            Message m = messages.get(i);
            switch (m.type()) {
                case CAPABILITIES -> assertThat(m.payload()).containsExactly(0);
                case CURSOR_SET -> {
                    assertThat(m.payload()).hasSize(12 + 16 * 16 * 4);
                    assertThat(m.u32(0)).as("16x16").isEqualTo(16 | 16 << 16);
                    assertThat(m.u8(8)).as("ALPHA").isZero();
                }
                case CURSOR_MOVE -> assertThat(m.payload()).hasSize(8);
                case FORMAT -> {
                    format = i;
                    assertThat(m.payload()).hasSize(12);
                    assertThat(m.u32(0)).isEqualTo(stream.width());
                    assertThat(m.u32(4)).isEqualTo(stream.height());
                    assertThat(m.u8(8)).isEqualTo(stream.codec().wireValue());
                }
                case DATA -> {
                    assertThat(format).as("FORMAT before DATA").isGreaterThanOrEqualTo(0);
                    if (stream.codec() == VideoCodec.MJPEG) {
                        assertThat(Bitstreams.isJpeg(m.payload())).as("DATA %d is a whole JPEG", frame).isTrue();
                    }
                    assertThat(m.payload()).as("DATA is frame %d", frame).isEqualTo(stream.frame(frame % stream.frameCount()));
                    frame++;
                }
                default -> throw new AssertionError("unexpected message from the guest: " + m);
            }
        }
        assertThat(format).as("a FORMAT").isGreaterThanOrEqualTo(0);
    }
}
