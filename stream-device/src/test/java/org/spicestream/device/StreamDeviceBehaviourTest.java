package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.streamchannel.internal.DisplayMessages.*;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.CursorMove;
import org.spicestream.protocol.CursorSet;
import org.spicestream.protocol.CursorType;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.NotifyError;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.SpiceTestClient.Message;
import org.spicestream.streamchannel.StreamChannel;
import org.spicestream.streamchannel.StreamChannelConfig;

/**
 * The stream device and its channels, one test per behaviour of the reference catalogue (B-numbers) and per
 * recommendation (R-numbers): a guest on a local Netty channel, SPICE clients over real loopback TCP.
 */
class StreamDeviceBehaviourTest {

    static final int CURSOR_INIT = 101;
    static final int CURSOR_SET = 103;
    static final int CURSOR_MOVE = 104;
    static final int[] ALL_CODEC_CAPS = {CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, CAP_MULTI_CODEC, 9, 10, 11, 13, 14};
    static final int[] VP8_CAPS = {CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, 9, 10};
    static final int[] NO_CAPS = {};

    static final byte[] VP8_KEY = {0x00, 0x00, 0x00, (byte) 0x9d, 0x01, 0x2a, 0x40, 0x01, (byte) 0xf0, 0x00};
    static final byte[] VP8_INTER = {0x01, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    /**
     * For tests of other behaviours that expect every frame at every viewer: without R10's age bound only the send
     * queue's bounds stop a frame. With it, a viewer whose time per frame is not measured yet counts as blocked at
     * {@link StreamChannel#INITIAL_FRAMES_IN_FLIGHT} frames written a moment before (a guest burst, acknowledgements
     * still on their way), and skips a frame when another viewer can take it or when it is past the pacing slack:
     * on a loaded machine that happened in about one run in four (r1's first viewer, flowControl's fast viewer, b19),
     * with and without the connection's split alike. The r10_* tests cover R10 itself.
     */
    static final StreamDeviceConfig NO_AGE_BOUND =
            StreamDeviceConfig.DEFAULT.withChannel(StreamChannelConfig.DEFAULT.withMaxVideoAge(Duration.ZERO));

    private EventLoopGroup group;
    private LocalGuestTransport transport;
    private SpiceServer server;
    private StreamDevice device;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        start(StreamDeviceConfig.DEFAULT, ServerConfig.DEFAULT);
    }

    void start(StreamDeviceConfig config, ServerConfig serverConfig) {
        stop();
        group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        transport = new LocalGuestTransport(group, "stream-device-test");
        server = SpiceServer.start(serverConfig.withListen(ListenConfig.of("127.0.0.1", 0))
                .withAuth(AuthConfig.TICKETING_DISABLED)
                .withSessions(serverConfig.sessions().withPolicy(SessionPolicy.SHARE)));
        device = new StreamDevice("test-device", transport, server.channels(), server.mmTime(), config,
                StreamDeviceListener.NONE);
        device.start();
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already closed by the test
            }
        }
        clients.clear();
        if (device != null) {
            device.close();
            server.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            device = null;
        }
    }

    ProtocolGuest openGuest() {
        ProtocolGuest guest = ProtocolGuest.connect(group, transport.address());
        await().until(() -> !guest.received().isEmpty());
        return guest;
    }

    SpiceTestClient display(int... caps) {
        SpiceTestClient main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options());
        clients.add(main);
        SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0, caps);
        clients.add(display);
        assertThat(display.linkResult()).isZero();
        assertThat(display.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        return display;
    }

    SpiceTestClient cursor() {
        SpiceTestClient main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options());
        clients.add(main);
        SpiceTestClient cursor = main.linkChannel(SpiceChannelType.CURSOR, 0);
        clients.add(cursor);
        assertThat(cursor.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        return cursor;
    }

    static List<Integer> types(SpiceTestClient c, int count) {
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            types.add(c.next().type());
        }
        return types;
    }

    static Data data(byte[] bytes) {
        return new Data(io.netty.buffer.Unpooled.wrappedBuffer(bytes));
    }

    void onDevice(Runnable r) {
        CompletableFuture.runAsync(r, device.executor()).orTimeout(5, TimeUnit.SECONDS).join();
    }

    @Test
    void b03_b04_channelsAppearOnFirstOpenWithTheLowestFreeIds() {
        assertThat(device.streamChannel()).isNull();
        openGuest();
        await().until(() -> device.streamChannel() != null);
        assertThat(device.streamChannel().id()).isZero();
        assertThat(device.cursorChannel().id()).isZero();
    }

    @Test
    void b05_r5_openSendsCapabilitiesFirstThenStartStopWhenClientsWait() {
        onDevice(device::createChannels);
        display(VP8_CAPS);
        ProtocolGuest guest = openGuest();
        await().until(() -> guest.received().size() >= 2);
        assertThat(guest.received().get(0)).isEqualTo(Capabilities.of(Capabilities.QUALITY_INDICATOR));
        assertThat(guest.received().get(1)).isEqualTo(StartStop.of(VideoCodec.MJPEG, VideoCodec.VP8));
    }

    @Test
    void b06_b33_closeEndsTheStreamAndSurfaceButKeepsTheCursor() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient display = display(NO_CAPS);
        guest.send(new Format(64, 48, VideoCodec.MJPEG), CursorSet.of(1, 1, 0, 0, CursorType.ALPHA, new byte[4]));
        display.next(MSG_STREAM_CREATE);
        guest.close();
        display.next(MSG_STREAM_DESTROY);
        display.next(MSG_SURFACE_DESTROY);
        await().until(() -> !device.isPortOpen());
        SpiceTestClient cursor = cursor();
        Message init = cursor.next();
        assertThat(init.type()).isEqualTo(CURSOR_INIT);
        assertThat(init.body().length).as("INIT carries the shape kept across the close").isGreaterThan(9 + 2);
    }

    @Test
    void b09_b10_aViolationIsNotifiedTheGuestIsCutOffAndClientsStay() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient display = display(NO_CAPS);
        guest.sendRaw(new byte[] {1, 0, 7, 0, 9, 0, 0, 0}); // CURSOR_MOVE of 9 bytes
        await().until(() -> guest.received().contains(new NotifyError(0, "Wrong size for StreamMsgCursorMove")));
        await().until(guest::isClosed);
        assertThat(device.protocolErrors()).isEqualTo(1);
        assertThat(display.isOpen()).isTrue();

        ProtocolGuest again = openGuest();
        assertThat(device.isInErrorState()).isFalse();
        again.send(new Format(64, 48, VideoCodec.MJPEG));
        assertThat(display.next(MSG_STREAM_CREATE)).isNotNull();
    }

    @Test
    void b16_dataBeforeAnyFormatIsDroppedAndEmptyDataIsConsumed() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient display = display(NO_CAPS);
        // the channel has taken the client on (its first message) before the guest writes
        assertThat(display.next().type()).isEqualTo(MSG_INVAL_ALL_PALETTES);
        guest.send(data(new byte[] {1, 2, 3}), data(new byte[0]), new Format(64, 48, VideoCodec.MJPEG),
                data(new byte[0]), data(new byte[] {4, 5, 6}));
        Message first = display.next(MSG_STREAM_DATA);
        assertThat(first.body()).endsWith(4, 5, 6);
        assertThat(device.framesIn()).isEqualTo(4);
    }

    @Test
    void b19_b30_frameTimesNeverGoBackwardsAndFramesArriveWholeInOrder() {
        start(NO_AGE_BOUND, ServerConfig.DEFAULT);
        ProtocolGuest guest = openGuest();
        SpiceTestClient display = display(NO_CAPS);
        assertThat(display.next().type()).isEqualTo(MSG_INVAL_ALL_PALETTES); // joined before the guest writes
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        for (int i = 0; i < 50; i++) {
            guest.send(data(new byte[] {(byte) i, 1, 2}));
        }
        int last = 0;
        for (int i = 0; i < 50; i++) {
            Message m = display.next(MSG_STREAM_DATA);
            assertThat(m.body()[STREAM_DATA_HEAD_SIZE]).isEqualTo((byte) i);
            int time = m.buf().getIntLE(4);
            assertThat(time - last).isGreaterThanOrEqualTo(0);
            last = time;
        }
    }

    @Test
    void b21_startStopIsDroppedWhileThePortIsClosed() {
        onDevice(device::createChannels);
        display(NO_CAPS);
        ProtocolGuest guest = openGuest();
        await().until(() -> guest.startStops().size() == 1);
        assertThat(guest.startStops()).containsExactly(StartStop.of(VideoCodec.MJPEG));
    }

    @Test
    void b22_b35_theLastClientLeavingStopsTheGuest() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient a = display(NO_CAPS);
        SpiceTestClient b = display(NO_CAPS);
        await().until(() -> guest.startStops().size() == 1);
        a.close();
        b.close();
        await().until(() -> guest.startStops().size() == 2);
        assertThat(guest.startStops().get(1)).isEqualTo(StartStop.STOP);
    }

    @Test
    void b24_r6_theListIsTheIntersectionPlusMjpegAscendingAndSentOnlyOnChange() {
        ProtocolGuest guest = openGuest();
        display(ALL_CODEC_CAPS);
        await().until(() -> guest.startStops().size() == 1);
        assertThat(guest.startStops().get(0).codecs()).containsExactly(VideoCodec.values());
        display(VP8_CAPS);
        await().until(() -> guest.startStops().size() == 2);
        assertThat(guest.startStops().get(1)).isEqualTo(StartStop.of(VideoCodec.MJPEG, VideoCodec.VP8));
        display(VP8_CAPS); // same list: nothing sent (R6)
        display(ALL_CODEC_CAPS);
        guest.send(new Format(64, 48, VideoCodec.MJPEG)); // a round trip through the device executor
        await().until(() -> device.format() != null);
        assertThat(guest.startStops()).hasSize(2);
    }

    @Test
    void b26_aClientJoiningBeforeAnyFormatGetsOnlyPalettes_afterGetsSurfaceFillMark() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient early = display(CAP_MONITORS_CONFIG);
        assertThat(early.next().type()).isEqualTo(MSG_INVAL_ALL_PALETTES);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        // B27: no DRAW_FILL for a format change
        assertThat(types(early, 4)).containsExactly(MSG_SURFACE_CREATE, MSG_MONITORS_CONFIG, MSG_MARK,
                MSG_STREAM_CREATE);
        SpiceTestClient late = display(CAP_MONITORS_CONFIG);
        assertThat(types(late, 6)).containsExactly(MSG_INVAL_ALL_PALETTES, MSG_SURFACE_CREATE, MSG_MONITORS_CONFIG,
                MSG_DRAW_FILL, MSG_MARK, MSG_STREAM_CREATE);
    }

    @Test
    void b27_b29_aNewFormatReplacesTheStreamAndResizesOnlyWhenTheSizeChanges() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient c = display(NO_CAPS);
        c.next(MSG_INVAL_ALL_PALETTES);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        assertThat(types(c, 3)).containsExactly(MSG_SURFACE_CREATE, MSG_MARK, MSG_STREAM_CREATE);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        List<Message> same = List.of(c.next(), c.next());
        assertThat(same).extracting(Message::type).containsExactly(MSG_STREAM_DESTROY, MSG_STREAM_CREATE);
        assertThat(same.get(1).buf().getIntLE(4)).as("stream id 1").isEqualTo(1);
        guest.send(new Format(32, 24, VideoCodec.MJPEG));
        assertThat(types(c, 5)).containsExactly(MSG_STREAM_DESTROY, MSG_SURFACE_DESTROY, MSG_SURFACE_CREATE, MSG_MARK,
                MSG_STREAM_CREATE);
        for (int i = 0; i < 48; i++) {
            guest.send(new Format(32, 24, VideoCodec.MJPEG));
        }
        Message create = null;
        for (int i = 0; i < 48; i++) {
            create = c.next(MSG_STREAM_CREATE);
        }
        assertThat(create.buf().getIntLE(4)).as("ids wrap modulo 50").isEqualTo(0);
    }

    @Test
    void b31_b37_reportsAndStreamingModeOnlyForClientsWithTheCaps() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient plain = display(NO_CAPS);
        SpiceTestClient rich = display(CAP_STREAM_REPORT, CAP_MULTI_CODEC);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        Message plainSurface = plain.next(MSG_SURFACE_CREATE);
        Message richSurface = rich.next(MSG_SURFACE_CREATE);
        assertThat(plainSurface.buf().getIntLE(16)).isEqualTo(SURFACE_FLAG_PRIMARY);
        assertThat(richSurface.buf().getIntLE(16)).isEqualTo(SURFACE_FLAG_PRIMARY | SURFACE_FLAG_STREAMING_MODE);
        plain.next(MSG_STREAM_CREATE);
        rich.next(MSG_STREAM_CREATE);
        assertThat(rich.next().type()).isEqualTo(MSG_STREAM_ACTIVATE_REPORT);
        guest.send(data(new byte[] {9}));
        assertThat(plain.next().type()).as("no report activation for a client without the cap")
                .isEqualTo(MSG_STREAM_DATA);
    }

    @Test
    void b36_glDrawDoneAndUnknownMessagesDisconnectOnlyThatClient() {
        openGuest();
        SpiceTestClient bad = display(NO_CAPS);
        SpiceTestClient good = display(NO_CAPS);
        bad.send(MSGC_GL_DRAW_DONE, new byte[0]);
        assertThat(bad.awaitClosed(Duration.ofSeconds(5))).isTrue();
        SpiceTestClient unknown = display(NO_CAPS);
        unknown.send(199, new byte[4]);
        assertThat(unknown.awaitClosed(Duration.ofSeconds(5))).isTrue();
        assertThat(good.isOpen()).isTrue();
    }

    @Test
    void b40_b41_b42_r4_cursorShapeMovesClampedAndInitForLateClients() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient early = cursor();
        Message emptyInit = early.next();
        assertThat(emptyInit.type()).isEqualTo(CURSOR_INIT);
        assertThat(emptyInit.buf().getShortLE(9)).as("flags NONE: no shape yet").isEqualTo((short) 1);
        byte[] pixels = new byte[16];
        pixels[3] = (byte) 0xff;
        guest.send(CursorSet.of(2, 2, 1, 1, CursorType.ALPHA, pixels), new CursorMove(100_000, -3));
        Message set = early.next();
        assertThat(set.type()).isEqualTo(CURSOR_SET);
        assertThat(set.body()).endsWith(pixels);
        Message move = early.next();
        assertThat(move.type()).isEqualTo(CURSOR_MOVE);
        assertThat(move.buf().getShortLE(0)).as("clamped, not wrapped").isEqualTo(Short.MAX_VALUE);
        assertThat(move.buf().getShortLE(2)).isEqualTo((short) -3);

        SpiceTestClient late = cursor();
        Message init = late.next();
        assertThat(init.type()).isEqualTo(CURSOR_INIT);
        assertThat(init.buf().getShortLE(0)).isEqualTo(Short.MAX_VALUE);
        assertThat(init.body()).endsWith(pixels);
    }

    @Test
    void r1_aLateJoinerGetsStreamCreateAtOnceAndFramesFromTheNextKeyFrame() {
        start(NO_AGE_BOUND, ServerConfig.DEFAULT);
        ProtocolGuest guest = openGuest();
        SpiceTestClient first = display(VP8_CAPS);
        await().until(() -> !guest.startStops().isEmpty());
        guest.send(new Format(64, 48, VideoCodec.VP8), data(VP8_KEY), data(VP8_INTER));
        first.next(MSG_STREAM_DATA);
        first.next(MSG_STREAM_DATA);
        SpiceTestClient late = display(VP8_CAPS);
        late.next(MSG_STREAM_CREATE);
        guest.send(data(VP8_INTER), data(VP8_INTER), data(VP8_KEY), data(VP8_INTER));
        Message firstForLate = late.next(MSG_STREAM_DATA);
        assertThat(firstForLate.body()).endsWith(VP8_KEY);
        assertThat(late.next(MSG_STREAM_DATA).body()).endsWith(VP8_INTER);
        for (int i = 0; i < 4; i++) {
            first.next(MSG_STREAM_DATA); // the first client got every frame
        }
    }

    @Test
    void r1_r8_noStreamMessagesForAStreamTheClientWasNotToldAbout() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient c = display(NO_CAPS);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        c.next(MSG_STREAM_CREATE);
        guest.close();
        await().until(() -> !device.isPortOpen());
        c.next(MSG_SURFACE_DESTROY);
        ProtocolGuest again = openGuest();
        again.send(data(new byte[] {1})); // no FORMAT since the reset: nobody may get it
        again.send(new Format(64, 48, VideoCodec.MJPEG), data(new byte[] {2}));
        List<Integer> seen = new ArrayList<>();
        Message m;
        while ((m = c.next()).type() != MSG_STREAM_DATA) {
            seen.add(m.type());
        }
        assertThat(seen).containsExactly(MSG_SURFACE_CREATE, MSG_MARK, MSG_STREAM_CREATE);
        assertThat(m.body()).endsWith(2);
    }

    @Test
    void r1_waitingTooLongForAKeyFrameRestartsTheGuestStream() {
        start(StreamDeviceConfig.DEFAULT.withChannel(new StreamChannelConfig(Duration.ofMillis(100))), ServerConfig.DEFAULT);
        ProtocolGuest guest = openGuest();
        SpiceTestClient first = display(VP8_CAPS);
        await().until(() -> guest.startStops().size() == 1);
        guest.send(new Format(64, 48, VideoCodec.VP8), data(VP8_KEY));
        first.next(MSG_STREAM_DATA);
        display(VP8_CAPS);
        await().pollInterval(Duration.ofMillis(20)).atMost(Duration.ofSeconds(5)).until(() -> {
            guest.send(data(VP8_INTER));
            return guest.startStops().size() >= 3;
        });
        List<StartStop> sent = guest.startStops();
        assertThat(sent.subList(1, 3)).containsExactly(StartStop.STOP, StartStop.of(VideoCodec.MJPEG, VideoCodec.VP8));
    }

    @Test
    void flowControl_aClientThatStopsAckingDropsFramesAloneAndTheDropsAreCounted() {
        start(NO_AGE_BOUND, ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, 64)));
        ProtocolGuest guest = openGuest();
        SpiceTestClient fast = display(NO_CAPS);
        SpiceTestClient stalled = display(NO_CAPS);
        stalled.setAutoAck(false);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        fast.next(MSG_STREAM_CREATE);
        // A paced stream (batches the fast client keeps up with): only the stalled client falls behind.
        for (int i = 0; i < 300; i += 10) {
            for (int j = i; j < i + 10; j++) {
                guest.send(data(new byte[] {(byte) j, (byte) (j >> 8), 7, 7}));
            }
            for (int j = i; j < i + 10; j++) {
                Message m = fast.next(MSG_STREAM_DATA);
                assertThat(m.body()[STREAM_DATA_HEAD_SIZE]).isEqualTo((byte) j);
            }
        }
        await().until(() -> device.streamChannel().framesDropped() > 0);
        assertThat(device.streamChannel().clientStats()).anySatisfy(s -> {
            assertThat(s.framesDropped()).isGreaterThan(0);
            assertThat(s.queuedBytes()).isLessThanOrEqualTo(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES);
        });
    }

    @Test
    void flowControl_theGuestIsPausedOnlyWhenEveryClientIsCongested() {
        start(StreamDeviceConfig.DEFAULT, ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, 64)));
        ProtocolGuest guest = openGuest();
        SpiceTestClient stalled = display(NO_CAPS);
        stalled.setAutoAck(false);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        for (int i = 0; i < 100; i++) {
            guest.send(data(new byte[200]));
        }
        await().until(device::isReadingPaused);
        stalled.resumeAcking();
        await().until(() -> !device.isReadingPaused());
    }

    @Test
    void flowControl_aViewerJoiningBehindAStalledViewerResumesTheGuestAndGetsEveryFrame() {
        start(StreamDeviceConfig.DEFAULT, ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, 64)));
        ProtocolGuest guest = openGuest();
        SpiceTestClient stalled = display(NO_CAPS);
        stalled.setAutoAck(false);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        for (int i = 0; i < 100; i++) {
            guest.send(data(new byte[200]));
        }
        await().until(device::isReadingPaused);

        SpiceTestClient joiner = display(NO_CAPS);
        joiner.next(MSG_STREAM_CREATE);
        // The stalled viewer still holds its queue: only the joiner can make the guest be read again.
        await().until(() -> !device.isReadingPaused());
        // A guest writes frame by frame, not 50 at once: tiny frames written in one burst arrive in one read and
        // go out together, past any viewer's budget of frames in flight, whatever the flow control does (R10
        // would rightly skip some for a viewer whose pace is not known yet). Each frame is written once the
        // previous one was shown, so a guest left paused shows as a missing frame here.
        for (int i = 0; i < 50; i++) {
            guest.send(data(new byte[] {(byte) 0xAB, (byte) i}));
            Message m;
            do {
                m = joiner.next(MSG_STREAM_DATA);
            } while (m.body()[STREAM_DATA_HEAD_SIZE] != (byte) 0xAB);
            assertThat(m.body()[STREAM_DATA_HEAD_SIZE + 1]).isEqualTo((byte) i);
        }
    }

    @Test
    void flowControl_aStreamRestartReachesAViewerWhoseQueueRefusesFrames() {
        // Without the age bound (R10) frames fill the slow viewer's queue up to its message bound.
        start(StreamDeviceConfig.DEFAULT.withChannel(StreamChannelConfig.DEFAULT.withMaxVideoAge(Duration.ZERO)),
                ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, 64)));
        ProtocolGuest guest = openGuest();
        SpiceTestClient fast = display(NO_CAPS);
        SpiceTestClient slow = display(NO_CAPS);
        slow.setAutoAck(false);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        fast.next(MSG_STREAM_CREATE);
        for (int i = 0; device.streamChannel().framesDropped() == 0; i++) {
            assertThat(i).as("frames sent before the slow viewer's queue refused one").isLessThan(1000);
            guest.send(data(new byte[] {(byte) i, 7}));
            fast.next(MSG_STREAM_DATA);
        }
        guest.send(new Format(32, 24, VideoCodec.MJPEG)); // a restart: destroy, surface, create to everyone
        fast.next(MSG_STREAM_CREATE);
        await().during(Duration.ofMillis(300)).until(slow::isOpen);

        slow.resumeAcking();
        slow.next(MSG_STREAM_DESTROY);
        assertThat(slow.next(MSG_SURFACE_CREATE).buf().getIntLE(4)).isEqualTo(32);
        slow.next(MSG_STREAM_CREATE);
        guest.send(data(new byte[] {(byte) 0xCD}));
        assertThat(slow.next(MSG_STREAM_DATA).body()[STREAM_DATA_HEAD_SIZE]).isEqualTo((byte) 0xCD);
    }

    /** A display client that acknowledges nothing by itself: the test processes (and acknowledges) its messages. */
    SpiceTestClient manualDisplay() {
        SpiceTestClient main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options());
        clients.add(main);
        SpiceTestClient display = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                .autoAck(false).hidePings(false));
        clients.add(display);
        assertThat(display.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        return display;
    }

    SpiceTestClient manualVp8Display() {
        SpiceTestClient main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options());
        clients.add(main);
        SpiceTestClient display = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                .channelCaps(VP8_CAPS).autoAck(false).hidePings(false));
        clients.add(display);
        assertThat(display.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        return display;
    }

    /** Sends inter frames until the fast client has them all, so that every one went past the other client. */
    private static void interFramesThrough(ProtocolGuest guest, SpiceTestClient fast, int count) {
        for (int i = 0; i < count; i++) {
            guest.send(data(VP8_INTER));
            assertThat(fast.next(MSG_STREAM_DATA).body()).endsWith(VP8_INTER);
        }
    }

    @Test
    void r10_aViewerThatHasNotTakenItsFirstFrameYetWaitsForAKeyFrameInsteadOfRestartingTheStream() {
        // A long key-frame wait: only the at-once restart of R10 could restart the guest within this test.
        start(StreamDeviceConfig.DEFAULT.withChannel(new StreamChannelConfig(Duration.ofSeconds(60))), ServerConfig.DEFAULT);
        ProtocolGuest guest = openGuest();
        SpiceTestClient fast = display(VP8_CAPS);
        SpiceTestClient starting = manualVp8Display(); // spice-gtk building its decoder: no ACK yet
        await().until(() -> guest.startStops().size() == 1);
        guest.send(new Format(64, 48, VideoCodec.VP8), data(VP8_KEY));
        fast.next(MSG_STREAM_DATA);
        interFramesThrough(guest, fast, 10); // more than the starting viewer's budget: it skips frames
        await().until(() -> device.streamChannel().clientStats().stream().anyMatch(st -> st.framesDropped() > 0));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> guest.startStops().size() == 1);
        // Once it acknowledges, the guest's own next key frame reaches it.
        starting.drain(); // what it was sent before (the stream's first key frame among it)
        starting.resumeAcking();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            guest.send(data(VP8_KEY));
            fast.next(MSG_STREAM_DATA);
            return starting.drain().stream().anyMatch(m -> m.type() == MSG_STREAM_DATA && endsWith(m.body(), VP8_KEY));
        });
        assertThat(guest.startStops()).hasSize(1);
    }

    private static boolean endsWith(byte[] body, byte[] tail) {
        return body.length >= tail.length && java.util.Arrays.equals(
                java.util.Arrays.copyOfRange(body, body.length - tail.length, body.length), tail);
    }

    @Test
    void r10_aViewerThatFallsBehindAfterItsFirstFramesAsksTheGuestForAKeyFrameAtOnce() {
        start(StreamDeviceConfig.DEFAULT.withChannel(new StreamChannelConfig(Duration.ofSeconds(60))), ServerConfig.DEFAULT);
        ProtocolGuest guest = openGuest();
        SpiceTestClient fast = display(VP8_CAPS);
        SpiceTestClient slow = manualVp8Display();
        await().until(() -> guest.startStops().size() == 1);
        guest.send(new Format(64, 48, VideoCodec.VP8), data(VP8_KEY));
        fast.next(MSG_STREAM_DATA);
        // It takes and acknowledges its first frame, then stops; its STREAM_REPORT, read after the ACK on the
        // same connection, tells when the server has counted that frame as delivered.
        Message m;
        while ((m = slow.next()).type() != MSG_STREAM_DATA) {
            slow.ack();
        }
        slow.ack();
        int streamId = m.buf().getIntLE(0);
        java.nio.ByteBuffer report = java.nio.ByteBuffer.allocate(STREAM_REPORT_SIZE).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        report.putInt(streamId).putInt(0).putInt(0).putInt(0).putInt(1).putInt(0).putInt(100).putInt(-1);
        slow.send(MSGC_STREAM_REPORT, report.array());
        await().until(() -> device.streamChannel().clientStats().stream().anyMatch(st -> st.lastReport() != null));
        interFramesThrough(guest, fast, 10);
        await().atMost(Duration.ofSeconds(5)).until(() -> guest.startStops().size() >= 3);
        assertThat(guest.startStops().subList(1, 3))
                .containsExactly(StartStop.STOP, StartStop.of(VideoCodec.MJPEG, VideoCodec.VP8));
    }

    /** A frame carrying the time it was written and its number. */
    static Data stampedFrame(int seq) {
        return data(java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(System.nanoTime()).putInt(seq).array());
    }

    static long stampOf(Message m) {
        return m.buf().getLongLE(STREAM_DATA_HEAD_SIZE);
    }

    static int seqOf(Message m) {
        return m.buf().getIntLE(STREAM_DATA_HEAD_SIZE + 8);
    }

    @Test
    void r10_aViewerThatAcknowledgesNothingIsSentOnlyItsBudgetOfFramesAndPacesTheGuest() {
        ProtocolGuest guest = openGuest();
        SpiceTestClient stalled = manualDisplay();
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        for (int i = 0; i < 200; i++) {
            guest.send(stampedFrame(i));
        }
        await().until(device::isReadingPaused);
        long[] sent = {-1};
        await().during(Duration.ofMillis(300)).until(() -> {
            long now = device.streamChannel().clientStats().get(0).framesSent();
            boolean same = now == sent[0];
            sent[0] = now;
            return same;
        });
        // Not the reference's 2 windows of 20 messages: the budget, plus the frames read before the pause.
        long frames = sent[0];
        assertThat(frames).isBetween(1L,
                (long) StreamChannel.INITIAL_FRAMES_IN_FLIGHT + StreamChannel.PACING_SLACK_FRAMES);
    }

    @Test
    void r10_aSlowViewerBesideAFastOneIsSentOnlyFreshFramesWhileTheFastOneGetsEveryFrame() throws Exception {
        long maxAge = StreamChannelConfig.DEFAULT_MAX_VIDEO_AGE.toNanos();
        ProtocolGuest guest = openGuest();
        SpiceTestClient fast = display(NO_CAPS);
        SpiceTestClient slow = manualDisplay();
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        fast.next(MSG_STREAM_CREATE);
        int total = 150; // 2.5 s at 60 fps
        List<Long> slowAges = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.ScheduledExecutorService timers = java.util.concurrent.Executors.newScheduledThreadPool(2);
        try {
            java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
            timers.scheduleAtFixedRate(() -> {
                int n = written.get();
                if (n < total) {
                    guest.send(stampedFrame(n));
                    written.incrementAndGet();
                }
            }, 0, 1_000_000 / 60, TimeUnit.MICROSECONDS);
            // The slow viewer processes 10 messages a second and acknowledges each, as a client that decodes slowly.
            timers.scheduleAtFixedRate(() -> {
                Message m = slow.poll();
                if (m != null) {
                    // After the first second: until the server has measured the viewer's pace it sends a couple
                    // of frames, which wait behind the stream's first messages.
                    if (m.type() == MSG_STREAM_DATA && seqOf(m) >= 60) {
                        slowAges.add(System.nanoTime() - stampOf(m));
                    }
                    slow.ack();
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            for (int i = 0; i < total; i++) {
                assertThat(seqOf(fast.next(MSG_STREAM_DATA))).isEqualTo(i);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> slowAges.size() >= 10);
        } finally {
            timers.shutdownNow();
        }
        // Every frame the slow viewer showed was fresh: at most the age bound plus one processing interval
        // (100 ms) and scheduling slack. Before R10 its queue aged by 90 ms per frame shown.
        assertThat(slowAges).allSatisfy(age -> assertThat(age).isLessThan(maxAge + 200_000_000L));
        assertThat(device.streamChannel().clientStats()).anySatisfy(st -> assertThat(st.framesDropped()).isPositive());
    }

    /**
     * A guest writing a frame every 1/60 s whose write blocks while the device has not read its previous frame (a
     * pipe of about one frame, as a socket with 250 KiB frames): a frame carries the time it was due, so the time
     * it waited in the guest counts in its age; slots missed while blocked are skipped (as the benchmarks' load
     * generator does).
     */
    private Thread pacedGuest(ProtocolGuest guest, java.util.concurrent.atomic.AtomicBoolean stop) {
        long period = TimeUnit.SECONDS.toNanos(1) / 60;
        long readBefore = device.framesIn();
        Thread t = new Thread(() -> {
            long next = System.nanoTime();
            for (int n = 0; !stop.get(); n++) {
                while (System.nanoTime() - next < 0 && !stop.get()) {
                    java.util.concurrent.locks.LockSupport.parkNanos(next - System.nanoTime());
                }
                // The write of frame n blocks until the device has read frame n - 1.
                while (device.framesIn() < readBefore + n && !stop.get()) {
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
                long now = System.nanoTime();
                long due = next;
                next = now - next > period ? now + period : next + period;
                guest.send(data(java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .putLong(due).putInt(n).array()));
            }
        }, "paced-guest");
        t.setDaemon(true);
        return t;
    }

    @Test
    void r10_aSlowViewerAloneIsShownFramesAboutOneOfItsIntervalsOldAndPacesTheGuest() throws Exception {
        ProtocolGuest guest = openGuest();
        SpiceTestClient slow = manualDisplay();
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        List<Long> ages = new java.util.concurrent.CopyOnWriteArrayList<>();
        long[] window = new long[4]; // device frames read and the time when the measured frames start and end
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = pacedGuest(guest, stop);
        java.util.concurrent.ScheduledExecutorService viewer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            writer.start();
            // The viewer takes a frame, then the next 100 ms later (10 of 60 fps), and acknowledges every message it
            // takes, as the benchmarks' slow reader does; its first second (while the server learns its pace) is not
            // measured.
            long start = System.nanoTime();
            viewer.scheduleWithFixedDelay(() -> {
                Message m;
                while ((m = slow.poll()) != null) {
                    slow.ack();
                    if (m.type() == MSG_STREAM_DATA) {
                        long now = System.nanoTime();
                        if (now - start > TimeUnit.SECONDS.toNanos(1) && ages.size() < 20) {
                            if (ages.isEmpty()) {
                                window[0] = device.framesIn();
                                window[2] = now;
                            }
                            ages.add(now - stampOf(m));
                            window[1] = device.framesIn();
                            window[3] = now;
                        }
                        break;
                    }
                }
            }, 0, 100, TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofSeconds(15)).until(() -> ages.size() >= 20);
        } finally {
            viewer.shutdownNow();
            viewer.awaitTermination(5, TimeUnit.SECONDS);
            stop.set(true);
            writer.join(5000);
        }
        List<Long> sorted = ages.stream().sorted().toList();
        long median = sorted.get(sorted.size() / 2);
        // The frame it is shown was written by the guest about when it acknowledged the one before and waited one of
        // its intervals in its buffer: about 100 ms. Without reading the guest ahead of its acknowledgement it was the
        // frame written when the guest was paused, due one more interval before that (about 285 ms here and in the
        // benchmark), more than the age bound.
        assertThat(median).as("median age of the frames shown, ages %s ms", sorted.stream().map(a -> a / 1_000_000).toList())
                .isLessThan(StreamChannelConfig.DEFAULT_MAX_VIDEO_AGE.toNanos());
        // It paces the guest (paused while the viewer is busy) instead of the server reading every frame and dropping.
        double written = (window[3] - window[2]) * 60 / 1e9;
        assertThat((double) (window[1] - window[0])).as("guest frames read while it could write %.0f", written)
                .isLessThan(0.8 * written);
    }
}
