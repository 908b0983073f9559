package org.spicestream.it.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_CREATE;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.streamchannel.StreamChannelConfig;
import org.spicestream.device.CharDevice;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.MessageType;
import org.spicestream.protocol.NotifyError;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.RedChannelClient;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceLinkError;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.streamchannel.StreamChannel;

/**
 * Issue 8: every resource a remote party can make the relay hold has a named bound, each tested here over real
 * sockets unless a module test already covers it (linking connections: ServerLinkTest; sessions: MainAndInputsTest;
 * link message size: ServerLinkTest; send queue in messages: ChannelFrameworkTest).
 */
class BoundsIT {

    private static final Logger LOG = LoggerFactory.getLogger(BoundsIT.class);

    static final Duration STEP = Duration.ofSeconds(10);

    @Test
    void clientsPerChannel_theConnectionAboveTheBoundIsRefusedAndItsPlaceFreesOnClose() throws Exception {
        int bound = 3;
        try (Relay relay = new Relay(b -> b.withSessions(b.sessions().withMaxClientsPerChannel(bound)));
                SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options())) {
            List<SpiceTestClient> displays = new java.util.ArrayList<>();
            for (int i = 0; i < bound; i++) {
                displays.add(main.linkChannel(SpiceChannelType.DISPLAY, 0));
                assertThat(displays.get(i).linkResult()).isZero();
            }
            try (SpiceTestClient refused = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
                assertThat(refused.linkResult()).isEqualTo(SpiceLinkError.CHANNEL_NOT_AVAILABLE);
                assertThat(refused.awaitClosed(STEP)).isTrue();
            }
            assertThat(relay.display().clients()).hasSize(bound);
            // other channels are bounded separately
            try (SpiceTestClient cursor = main.linkChannel(SpiceChannelType.CURSOR, 0)) {
                assertThat(cursor.linkResult()).isZero();
            }
            displays.remove(0).close();
            await().atMost(STEP).until(() -> relay.display().clients().size() == bound - 1);
            try (SpiceTestClient again = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
                assertThat(again.linkResult()).isZero();
            }
            displays.forEach(SpiceTestClient::close);
            await().atMost(STEP).until(() -> relay.server.linkingConnections() == 0 && relay.displayClients() == 0);
        }
    }

    @Test
    void queuedBytesPerClient_theByteBoundHoldsBeforeTheMessageBound() throws Exception {
        long bound = 256 * 1024;
        int frame = 10 * 1024;
        // The age bound (R10) off: a client that does not acknowledge gets frames until its queue is full.
        try (Relay relay = new Relay(b -> b.withConnection(b.connection().withSendQueue(bound, ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_MESSAGES)),
                StreamDeviceConfig.DEFAULT.withChannel(StreamChannelConfig.DEFAULT.withMaxVideoAge(Duration.ZERO)),
                UnaryOperator.identity());
                SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options());
                SpiceTestClient stalled = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId()))
                        .channel(SpiceChannelType.DISPLAY, 0).autoAck(false));
                // a client that keeps up, so that the guest is not paused (it is when every client is congested)
                SpiceTestClient normal = main.linkChannel(SpiceChannelType.DISPLAY, 0);
                FaultsIT.QueueWatch watch = new FaultsIT.QueueWatch(relay);
                StreamingGuest guest = StreamingGuest.start(relay.socket, frame, 500, true)) {
            await().atMost(STEP).until(() -> relay.display().clients().stream().anyMatch(c -> c.droppedMessages() > 0));
            guest.stop();
            RedChannelClient rcc = relay.display().clients().stream().filter(c -> c.droppedMessages() > 0).findFirst()
                    .orElseThrow();
            long queued = rcc.queuedBytes();
            LOG.info("[robustness] send queue byte bound {} KiB: {} messages / {} KiB queued, {} frames dropped, largest"
                    + " seen {} KiB", bound / 1024, rcc.queuedMessages(), queued / 1024, rcc.droppedMessages(),
                    watch.max() / 1024);
            assertThat(watch.max()).isLessThanOrEqualTo(bound);
            assertThat(queued).as("the byte bound is what stopped it").isGreaterThan(bound - frame - 64);
            assertThat(rcc.queuedMessages()).isLessThan(relay.server.config().connection().sendQueueMaxMessages());
            assertThat(normal.isOpen()).isTrue();
        }
    }

    @Test
    void hostToGuestQueue_aGuestThatNeverReadsGetsItsStartStopsDroppedAndCounted() throws Exception {
        int queueBytes = 128;
        StreamDeviceConfig config = new StreamDeviceConfig(StreamLimits.DEFAULT, StreamDeviceConfig.DEFAULT.channel(),
                false, true, queueBytes);
        // small transport water marks so that the device's own queue, not Netty's, is what fills up
        try (Relay relay = new Relay(UnaryOperator.identity(), config, c -> c.withWriteWaterMarks(256, 512));
                SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options());
                RawGuest guest = RawGuest.open(relay.socket, false)) {
            await().atMost(STEP).until(relay.device::isPortOpen);
            int cycles = 0;
            long t0 = System.nanoTime();
            // each display join / leave queues one START_STOP ([MJPEG] / stop) for a guest that never reads
            while (relay.device.droppedWrites() == 0) {
                assertThat(cycles).as("START_STOPs sent without the bound being reached").isLessThan(4000);
                try (SpiceTestClient d = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
                    assertThat(d.linkResult()).isZero();
                    // the channel takes the client (and queues START_STOP) on the device executor
                    fast().until(() -> relay.displayClients() == 1);
                }
                fast().until(() -> relay.displayClients() == 0);
                cycles++;
            }
            int queued = relay.onDevice(relay.device::queuedWrites);
            LOG.info("[robustness] host → guest queue ({} bytes, default {} bytes / {} messages): first drop after {}"
                    + " join/leave cycles in {} ms; {} writes queued, {} dropped, {} bytes handed to the socket", queueBytes,
                    CharDevice.DEFAULT_MAX_QUEUED_WRITE_BYTES, CharDevice.DEFAULT_MAX_QUEUED_WRITES, cycles,
                    (System.nanoTime() - t0) / 1_000_000, queued, relay.device.droppedWrites(), relay.device.bytesOut());
            int startStopSize = RawGuest.HEADER_SIZE + 1 + 1; // START_STOP of one codec
            assertThat(queued).isPositive().isLessThanOrEqualTo(queueBytes / (startStopSize - 1));
            assertThat(relay.device.isPortOpen()).isTrue();
            assertThat(main.isOpen()).isTrue();
        }
    }

    @Test
    void guestMessageSizes_aDataHeaderAboveTheConfiguredLimitIsRefusedBeforeItsPayload() throws Exception {
        int limit = 64 * 1024;
        StreamDeviceConfig config = StreamDeviceConfig.DEFAULT.withLimits(StreamLimits.DEFAULT.withMaxDataSize(limit));
        try (Relay relay = new Relay(UnaryOperator.identity(), config, UnaryOperator.identity());
                SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options());
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
            try (RawGuest guest = RawGuest.open(relay.socket, true)) {
                guest.awaitStart(STEP);
                guest.format(64, 48, VideoCodec.MJPEG);
                guest.frame(new byte[limit]); // exactly the limit: fine
                assertThat(display.next(MSG_STREAM_DATA).body().length).isGreaterThan(limit);
                guest.write(RawGuest.header(MessageType.DATA, limit + 1)); // the header alone
                assertThat(awaitNotifyError(guest)).isEqualTo(new NotifyError(0, "STREAM_DATA too large"));
                await().atMost(STEP).until(() -> !guest.isOpen() || relay.device.isInErrorState() || !relay.device.isPortOpen());
            }
            assertThat(relay.device.protocolErrors()).isEqualTo(1);
            // the fixed bounds of the other guest messages, header only as well
            int[][] oversized = {
                {MessageType.CAPABILITIES, StreamLimits.CAPABILITIES_MAX_BYTES + 1},
                {MessageType.CURSOR_SET, StreamLimits.CURSOR_SET_MAX_BYTES + 1},
                {MessageType.DEVICE_DISPLAY_INFO, StreamLimits.DEVICE_DISPLAY_INFO_MAX_BYTES + 1},
            };
            for (int[] o : oversized) {
                try (RawGuest guest = RawGuest.open(relay.socket, true)) {
                    guest.awaitStart(STEP);
                    guest.write(RawGuest.header(o[0], o[1]));
                    NotifyError error = awaitNotifyError(guest);
                    LOG.info("[robustness] guest message type {} of {} bytes: {}", o[0], o[1], error);
                    assertThat(error.text()).as("the reference's text for this bound").isNotBlank();
                }
                await().atMost(STEP).until(() -> !relay.device.isPortOpen());
            }
            assertThat(relay.device.protocolErrors()).isEqualTo(1 + oversized.length);
            assertThat(display.isOpen()).isTrue();
            // and the device takes a well-behaved guest afterwards
            try (RawGuest guest = RawGuest.open(relay.socket, true)) {
                guest.awaitStart(STEP);
                guest.format(64, 48, VideoCodec.MJPEG);
                guest.frame(new byte[] {1, 2, 3});
                display.next(MSG_STREAM_CREATE);
                display.next(MSG_STREAM_DATA);
            }
        }
    }

    /** An await that polls every millisecond (the default 100 ms would dominate a loop of cycles). */
    static ConditionFactory fast() {
        return await().atMost(STEP).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1));
    }

    private static NotifyError awaitNotifyError(RawGuest guest) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            HostMessage m = guest.next(Duration.ofMillis(100));
            if (m instanceof NotifyError e) {
                return e;
            }
        }
        throw new AssertionError("no NOTIFY_ERROR; received " + guest.received());
    }

    @Test
    void clientMessageSizesPerChannel_anOversizedHeaderDisconnectsBeforeTheBodyIsBuffered() throws Exception {
        // {channel type, a message type of that channel, its bound}; the bounds are the channels' named constants
        int[][] cases = {
            {SpiceChannelType.MAIN, SpiceMessages.MSGC_MAIN_AGENT_DATA, 4096 + 11 * 2048}, // MainChannel.MAX_MAIN_MESSAGE_SIZE
            {SpiceChannelType.INPUTS, SpiceMessages.MSGC_INPUTS_KEY_DOWN, 2048}, // InputsChannel.MAX_INPUTS_MESSAGE_SIZE
            {SpiceChannelType.DISPLAY, 101 /* MSGC_DISPLAY_INIT */, StreamChannel.MAX_CLIENT_MESSAGE_SIZE},
            {SpiceChannelType.CURSOR, SpiceMessages.MSGC_PONG, RedChannelClient.MAX_COMMON_MESSAGE_SIZE},
            {SpiceChannelType.DISPLAY, SpiceMessages.MSGC_ACK_SYNC, RedChannelClient.MAX_COMMON_MESSAGE_SIZE},
        };
        try (Relay relay = new Relay(UnaryOperator.identity())) {
            InetSocketAddress server = relay.server.localAddress();
            try (SpiceTestClient keep = SpiceTestClient.connect(server, SpiceTestClient.options());
                    SpiceTestClient keepDisplay = keep.linkChannel(SpiceChannelType.DISPLAY, 0)) {
                for (int[] c : cases) {
                    SpiceTestClient main = SpiceTestClient.connect(server, SpiceTestClient.options());
                    SpiceTestClient target = c[0] == SpiceChannelType.MAIN ? main : main.linkChannel(c[0], 0);
                    assertThat(target.linkResult()).isZero();
                    // only the header: the server must not wait for (and buffer) the body
                    target.sendRaw(miniHeader(c[1], c[2] + 1));
                    long t0 = System.nanoTime();
                    assertThat(target.awaitClosed(STEP)).as("channel %d message %d of %d bytes", c[0], c[1], c[2] + 1)
                            .isTrue();
                    LOG.info("[robustness] channel type {} message {} announcing {} bytes (bound {}): closed after {} ms"
                            + " without its body", c[0], c[1], c[2] + 1, c[2], (System.nanoTime() - t0) / 1_000_000);
                    target.close();
                    main.close();
                }
                assertThat(keep.isOpen()).isTrue();
                assertThat(keepDisplay.isOpen()).isTrue();
                assertThat(relay.server.internalErrors()).isZero();
            }
            await().atMost(STEP).until(relay::isIdle);
        }
    }

    private static byte[] miniHeader(int type, int size) {
        ByteBuffer b = ByteBuffer.allocate(6).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) type).putInt(size);
        return b.array();
    }

}
