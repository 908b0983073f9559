package org.spicestream.it.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.streamchannel.internal.DisplayMessages.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.device.StreamDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.StreamDeviceListener;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.NotifyError;
import org.spicestream.protocol.StartStop;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.SpiceTestClient.Message;
import org.spicestream.streamchannel.StreamReport;
import org.spicestream.testsupport.ExternalTools;

/**
 * The guest's video and cursor reach SPICE clients (issue 4), over real sockets: a Java guest agent on the
 * device's unix socket, the protocol-level SPICE test client on TCP.
 */
class StreamDeviceIT {

    static final int CURSOR_INIT = 101;
    static final int CURSOR_SET = 103;
    static final int CURSOR_MOVE = 104;
    static final int[] GTK_DISPLAY_CAPS = {CAP_SIZED_STREAM, CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, CAP_MULTI_CODEC,
        9, 10, 11, 13, 14};
    static final int[] HTML5_DISPLAY_CAPS = {CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, 9, 10};
    static final int[] MJPEG_ONLY_CAPS = {CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, 9};

    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    <T extends AutoCloseable> T use(T resource) {
        resources.add(resource);
        return resource;
    }

    static Map<VideoCodec, EncodedStream> media(EncodedStream... streams) {
        Map<VideoCodec, EncodedStream> map = new LinkedHashMap<>();
        for (EncodedStream s : streams) {
            map.put(s.codec(), s);
        }
        return map;
    }

    TestGuestAgent guest(StreamRelay relay, Map<VideoCodec, EncodedStream> media) throws IOException {
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
        return use(new TestGuestAgent(relay.socket, media, 30)).open();
    }

    SpiceTestClient main(StreamRelay relay) {
        return use(SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options()));
    }

    SpiceTestClient display(StreamRelay relay, SpiceTestClient main, int... caps) {
        SpiceTestClient c = use(main.linkChannel(SpiceChannelType.DISPLAY, 0, caps));
        assertThat(c.linkResult()).isZero();
        return c;
    }

    static int streamDataId(Message m) {
        return m.buf().getIntLE(0);
    }

    static byte[] streamDataBytes(Message m) {
        int head = m.type() == MSG_STREAM_DATA_SIZED ? STREAM_DATA_SIZED_HEAD_SIZE : STREAM_DATA_HEAD_SIZE;
        return Arrays.copyOfRange(m.body(), head, m.body().length);
    }

    static Message nextOf(SpiceTestClient c, int... types) {
        long deadline = System.nanoTime() + SpiceTestClient.DEFAULT_TIMEOUT.toNanos();
        while (true) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("none of the message types " + Arrays.toString(types) + " within "
                        + SpiceTestClient.DEFAULT_TIMEOUT);
            }
            Message m = c.next();
            for (int t : types) {
                if (m.type() == t) {
                    return m;
                }
            }
        }
    }

    @Test
    void aClientSeesTheGuestsFramesAndCursorInOrder() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 10);
        StreamRelay relay = use(new StreamRelay(SessionPolicy.REPLACE));
        TestGuestAgent guest = guest(relay, media(mjpeg));
        await().until(() -> !guest.received().isEmpty());
        assertThat(guest.received().get(0)).as("B5: CAPABILITIES first").isEqualTo(Capabilities.of(
                Capabilities.QUALITY_INDICATOR));

        SpiceTestClient main = main(relay);
        SpiceTestClient display = display(relay, main, MJPEG_ONLY_CAPS);
        SpiceTestClient cursor = use(main.linkChannel(SpiceChannelType.CURSOR, 0));

        await().until(() -> guest.received().contains(StartStop.of(org.spicestream.protocol.VideoCodec.MJPEG)));
        assertThat(display.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        assertThat(display.next().type()).isEqualTo(MSG_INVAL_ALL_PALETTES);
        // B27 (client connected before FORMAT): surface, monitors, mark, stream create, activate report
        Message surface = display.next();
        assertThat(surface.type()).isEqualTo(MSG_SURFACE_CREATE);
        assertThat(surface.buf().getIntLE(4)).isEqualTo(320);
        assertThat(surface.buf().getIntLE(8)).isEqualTo(240);
        assertThat(surface.buf().getIntLE(16)).as("no MULTI_CODEC: PRIMARY only (B37)").isEqualTo(SURFACE_FLAG_PRIMARY);
        assertThat(display.next().type()).isEqualTo(MSG_MONITORS_CONFIG);
        assertThat(display.next().type()).isEqualTo(MSG_MARK);
        Message create = display.next();
        assertThat(create.type()).isEqualTo(MSG_STREAM_CREATE);
        assertThat(create.body()[9]).as("codec MJPEG").isEqualTo((byte) 1);
        assertThat(display.next().type()).isEqualTo(MSG_STREAM_ACTIVATE_REPORT);

        // Frames arrive whole, byte-exact and in the guest's order, with non-decreasing mm-time.
        int previousTime = Integer.MIN_VALUE;
        for (int i = 0; i < 25; i++) {
            Message data = display.next();
            assertThat(data.type()).isEqualTo(MSG_STREAM_DATA);
            assertThat(streamDataBytes(data)).isEqualTo(mjpeg.frame(i % mjpeg.frameCount()));
            int mmTime = data.buf().getIntLE(4);
            assertThat(mmTime - previousTime >= 0 || previousTime == Integer.MIN_VALUE).isTrue();
            previousTime = mmTime;
        }

        Message init = cursor.next(CURSOR_INIT);
        boolean initHasShape = init.buf().getShortLE(9) != 1; // flags NONE = no shape yet
        if (initHasShape) {
            // the guest's CURSOR_SET came before this client joined: INIT carries it (B42)
            assertThat(init.buf().getShortLE(4 + 4 + 1 + 2 + 8 + 1)).as("cursor width").isEqualTo((short) 2);
        } else {
            Message set = nextOf(cursor, CURSOR_SET);
            assertThat(set.buf().getShortLE(4 + 1 + 2 + 8 + 1)).as("cursor width").isEqualTo((short) 2);
        }
        Message move = nextOf(cursor, CURSOR_MOVE);
        assertThat(move.buf().getShortLE(2)).as("y").isEqualTo((short) 100);
    }

    @Test
    void aLateJoinerGetsTheRunningStreamAtOnceAndStartsAtAKeyFrame() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        EncodedStream h264 = TestMedia.get(org.spicestream.testsupport.media.MediaSpec.of(VideoCodec.H264, 320, 240, 60)
                .withGop(10));
        StreamRelay relay = use(new StreamRelay(SessionPolicy.SHARE));
        TestGuestAgent guest = guest(relay, media(h264));
        SpiceTestClient first = display(relay, main(relay), GTK_DISPLAY_CAPS);
        nextOf(first, MSG_STREAM_DATA_SIZED, MSG_STREAM_DATA);
        await().until(() -> guest.framesSent() > 15);

        SpiceTestClient second = display(relay, main(relay), GTK_DISPLAY_CAPS);
        List<Integer> types = new ArrayList<>();
        Message m;
        while ((m = second.next()).type() != MSG_STREAM_DATA_SIZED) {
            types.add(m.type());
        }
        // R1: surface, black fill, mark and STREAM_CREATE right away; the first frame is a key frame.
        assertThat(types).containsExactly(SpiceMessages.MSG_SET_ACK, MSG_INVAL_ALL_PALETTES, MSG_SURFACE_CREATE,
                MSG_MONITORS_CONFIG, MSG_DRAW_FILL, MSG_MARK, MSG_STREAM_CREATE, MSG_STREAM_ACTIVATE_REPORT);
        byte[] firstFrame = streamDataBytes(m);
        int index = h264.frames().stream().map(f -> Arrays.equals(f, firstFrame)).toList().indexOf(true);
        assertThat(index).as("frame is one the guest sent").isNotNegative();
        assertThat(h264.isKeyFrame(index)).as("first frame for the late joiner is a key frame").isTrue();
        assertThat(guest.formats()).as("no restart was needed").hasSize(1);
    }

    @Test
    void theCodecListIsWhatEveryClientDecodesAndARestartHappensWhenTheCurrentCodecIsLost() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        EncodedStream vp8 = TestMedia.vp8(320, 240, 30);
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 10);
        StreamRelay relay = use(new StreamRelay(SessionPolicy.SHARE));
        TestGuestAgent guest = guest(relay, media(vp8, mjpeg));
        SpiceTestClient html5 = display(relay, main(relay), HTML5_DISPLAY_CAPS);
        await().until(() -> guest.startStops().equals(List.of(org.spicestream.protocol.VideoCodec.MJPEG,
                org.spicestream.protocol.VideoCodec.VP8)));
        await().until(() -> guest.formats().contains("320x240 VP8"));

        SpiceTestClient mjpegOnly = display(relay, main(relay), MJPEG_ONLY_CAPS);
        // VP8 is no longer decodable by everyone: stop, then start with MJPEG only; the guest restarts.
        await().until(() -> guest.formats().size() == 2);
        assertThat(guest.formats().get(1)).isEqualTo("320x240 MJPEG");
        List<HostMessage> tail = guest.received().subList(guest.received().size() - 2, guest.received().size());
        assertThat(tail).containsExactly(StartStop.STOP, StartStop.of(org.spicestream.protocol.VideoCodec.MJPEG));
        Message create = nextOf(mjpegOnly, MSG_STREAM_CREATE);
        assertThat(create.body()[9]).isEqualTo((byte) 1);
        assertThat(nextOf(mjpegOnly, MSG_STREAM_DATA).body()).isNotEmpty();

        // R6: when it leaves the list changes back, and is sent once.
        mjpegOnly.close();
        await().until(() -> guest.startStops().size() == 2);
        long sent = guest.received().stream().filter(m -> m instanceof StartStop s && s.codecs().size() == 2).count();
        assertThat(sent).isEqualTo(2);

        // B35: the last client leaving stops the guest.
        html5.close();
        await().until(() -> guest.received().get(guest.received().size() - 1).equals(StartStop.STOP));
    }

    @Test
    void aGuestReopenResetsTheStreamAndItResumes() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        EncodedStream mjpeg = TestMedia.mjpeg(320, 240, 10);
        StreamRelay relay = use(new StreamRelay(SessionPolicy.REPLACE));
        TestGuestAgent guest = guest(relay, media(mjpeg));
        SpiceTestClient display = display(relay, main(relay), MJPEG_ONLY_CAPS);
        int firstId = streamDataId(nextOf(display, MSG_STREAM_DATA));

        guest.closePort();
        // B33: the client loses the stream and the surface
        assertThat(streamDataIdOf(nextOf(display, MSG_STREAM_DESTROY))).isEqualTo(firstId);
        nextOf(display, MSG_SURFACE_DESTROY);

        guest.received().clear();
        guest.open();
        await().until(() -> guest.received().size() >= 2);
        assertThat(guest.received().get(0)).isInstanceOf(Capabilities.class);
        assertThat(guest.received().get(1)).isEqualTo(StartStop.of(org.spicestream.protocol.VideoCodec.MJPEG));
        nextOf(display, MSG_SURFACE_CREATE);
        Message create = nextOf(display, MSG_STREAM_CREATE);
        int newId = create.buf().getIntLE(4);
        assertThat(streamDataId(nextOf(display, MSG_STREAM_DATA))).isEqualTo(newId);
    }

    private static int streamDataIdOf(Message m) {
        return m.buf().getIntLE(0);
    }

    @Test
    void aProtocolErrorIsNotifiedAndTheGuestRecoversByReopening() throws Exception {
        StreamRelay relay = use(new StreamRelay(SessionPolicy.REPLACE));
        TestGuestAgent guest = guest(relay, Map.of());
        await().until(() -> !guest.received().isEmpty());
        // FORMAT header claiming 8 bytes
        guest.writeBytes(ByteBuffer.wrap(new byte[] {1, 0, 2, 0, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}));
        await().until(() -> guest.received().stream().anyMatch(m -> m instanceof NotifyError));
        assertThat(guest.received()).contains(new NotifyError(0, "Wrong size for StreamMsgFormat"));
        await().until(() -> relay.device.protocolErrors() == 1);

        guest.closePort();
        guest.received().clear();
        guest.open();
        await().until(() -> guest.received().contains(Capabilities.of(Capabilities.QUALITY_INDICATOR)));
        assertThat(relay.device.isInErrorState()).isFalse();
    }

    @Test
    void streamReportsReachTheListenerAndInvalidOnesAreRecognised() throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        List<StreamReport> reports = new CopyOnWriteArrayList<>();
        StreamRelay relay = use(new StreamRelay(SessionPolicy.REPLACE, StreamDeviceConfig.DEFAULT,
                new StreamDeviceListener() {
                    @Override
                    public void streamReport(StreamDevice device, String client, StreamReport report) {
                        reports.add(report);
                    }
                }));
        guest(relay, media(TestMedia.mjpeg(320, 240, 10)));
        SpiceTestClient display = display(relay, main(relay), MJPEG_ONLY_CAPS);
        int id = streamDataId(nextOf(display, MSG_STREAM_DATA));
        ByteBuffer report = ByteBuffer.allocate(STREAM_REPORT_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        report.putInt(id).putInt(1).putInt(1000).putInt(1160).putInt(0).putInt(-1).putInt(0).putInt(-1);
        display.send(MSGC_STREAM_REPORT, report.array());
        await().until(() -> !reports.isEmpty());
        assertThat(reports.get(0).streamId()).isEqualTo(id);
        assertThat(reports.get(0).isInvalidStream()).isTrue();
    }
}
