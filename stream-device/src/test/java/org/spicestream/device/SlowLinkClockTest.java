package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.spicestream.streamchannel.internal.DisplayMessages.CAP_MONITORS_CONFIG;
import static org.spicestream.streamchannel.internal.DisplayMessages.CAP_STREAM_REPORT;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.MmTimeConfig;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.SpiceTestClient.Message;
import org.spicestream.streamchannel.StreamChannelConfig;

/**
 * R9 on a link the stream saturates: spice-gtk sends STREAM_REPORT only when its display socket has nothing left to
 * read, so on such a link no report comes; the frames' acknowledgements alone must raise the session's clock latency
 * past the link's delay, or spice-gtk drops every frame as late and shows no picture.
 */
class SlowLinkClockTest {

    /** The simulated link: a frame's acknowledgement reaches the server this long after the frame was written. */
    private static final long LINK_MS = 150;
    private static final int FRAMES = 20;

    private EventLoopGroup group;
    private LocalGuestTransport transport;
    private SpiceServer server;
    private StreamDevice device;
    private SpiceTestClient main;
    private SpiceTestClient display;

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        transport = new LocalGuestTransport(group, "slow-link-test");
        server = SpiceServer.start(ServerConfig.DEFAULT.withListen(ListenConfig.of("127.0.0.1", 0))
                .withAuth(AuthConfig.TICKETING_DISABLED));
        device = new StreamDevice("test-device", transport, server.channels(), server.mmTime(),
                // Without R10's age bound: every frame reaches the viewer, however late (what is under test is R9).
                StreamDeviceConfig.DEFAULT.withChannel(new StreamChannelConfig(
                        StreamChannelConfig.DEFAULT_KEY_FRAME_WAIT_LIMIT, Duration.ZERO)),
                StreamDeviceListener.NONE);
        device.start();
    }

    @AfterEach
    void stop() {
        for (SpiceTestClient c : new SpiceTestClient[] {display, main}) {
            if (c != null) {
                c.close();
            }
        }
        device.close();
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void framesAcknowledgedLateWithoutAnyReportRaiseTheLatencyPastTheLink() {
        streamThrough(LINK_MS);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> latencyMs() >= LINK_MS - 20);
        assertThat(latencyMs()).as("clock latency after %d frames acknowledged %d ms late, no report", FRAMES, LINK_MS)
                .isGreaterThanOrEqualTo((int) LINK_MS - 20)
                .isLessThanOrEqualTo((int) MmTimeConfig.DEFAULT_MAX_LATENCY.toMillis());
        // The client was told: its clock now runs about that far behind the frames' timestamps.
        int clientTime = -1;
        for (Message m : main.drain()) {
            if (m.type() == SpiceMessages.MSG_MAIN_MULTI_MEDIA_TIME) {
                clientTime = m.buf().getIntLE(0);
            }
        }
        assertThat(clientTime).as("MULTI_MEDIA_TIME sent").isNotEqualTo(-1);
        assertThat(server.mmTime().now() - clientTime).isGreaterThanOrEqualTo((int) LINK_MS - 20);
    }

    @Test
    void framesAcknowledgedAtOnceLeaveTheLatencyAtTheConfiguredOne() {
        streamThrough(0);
        Awaitility.await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .until(() -> latencyMs() == MmTimeConfig.DEFAULT_LATENCY.toMillis());
        assertThat(main.drain()).noneMatch(m -> m.type() == SpiceMessages.MSG_MAIN_MULTI_MEDIA_TIME);
    }

    /** A viewer whose acknowledgements arrive {@code linkMs} after each frame was written; it never reports. */
    private void streamThrough(long linkMs) {
        ProtocolGuest guest = ProtocolGuest.connect(group, transport.address());
        Awaitility.await().until(() -> device.streamChannel() != null);
        main = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options());
        display = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                .channelCaps(CAP_MONITORS_CONFIG, CAP_STREAM_REPORT).autoAck(false));
        assertThat(display.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        Awaitility.await().until(() -> guest.startStops().size() == 1);
        guest.send(new Format(64, 48, VideoCodec.MJPEG));
        for (int i = 0; i < FRAMES; i++) {
            guest.send(new Data(Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) i})));
            Message m;
            while ((m = display.next()).type() != MSG_STREAM_DATA) {
                display.ack(); // the window is 1: every message is acknowledged
            }
            // The link's delay (what is simulated, not a synchronisation): the ACK leaves linkMs after the frame.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(linkMs));
            display.ack();
        }
        assertThat(device.streamChannel().clientStats().get(0).framesSent()).isEqualTo(FRAMES);
    }

    private int latencyMs() {
        return device.streamChannel().clientStats().get(0).mmTimeLatencyMs();
    }
}
