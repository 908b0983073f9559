package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestChannel;
import org.spicestream.testsupport.Vectors;

/** Send queue, ACK window, PING/PONG, message size checks and clean close (spice-wire §4.3, §6; B57, B58). */
class ChannelFrameworkTest {
    private static final Duration T = Duration.ofSeconds(10);
    private SpiceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private SpiceServer start(ServerConfig c) {
        server = SpiceServer.start(c.withListen(ListenConfig.of("127.0.0.1", 0)).withAuth(AuthConfig.TICKETING_DISABLED));
        return server;
    }

    private static OutgoingMessage msg(RedChannelClient c, int type, int n) {
        return new OutgoingMessage(type, c.alloc().buffer(4).writeIntLE(n));
    }

    @Test
    void ackWindowStopsAboveTwoWindowsAndResumesOnAck() throws Exception {
        int window = 2;
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withAckWindow(window)));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            assertThat(rcc).isNotNull();
            SpiceTestClient.Message setAck = client.next();
            assertThat(setAck.type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
            assertThat(setAck.buf().getIntLE(0)).isEqualTo(1);
            assertThat(setAck.buf().getIntLE(4)).isEqualTo(window);
            for (int i = 0; i < 20; i++) {
                assertThat(rcc.trySend(msg(rcc, 200, i))).isTrue();
            }
            // SET_ACK counts as one: messages are written while unacked <= 2W, so 2W more follow it
            for (int i = 0; i < 2 * window; i++) {
                assertThat(client.next().buf().getIntLE(0)).isEqualTo(i);
            }
            await().during(Duration.ofMillis(300)).atMost(T).until(() -> rcc.queuedMessages() == 20 - 2 * window);
            assertThat(client.poll()).isNull();

            client.send(SpiceMessages.MSGC_ACK_SYNC, new byte[] {1, 0, 0, 0});
            client.ack();
            for (int i = 2 * window; i < 3 * window; i++) {
                assertThat(client.next().buf().getIntLE(0)).isEqualTo(i);
            }
            await().during(Duration.ofMillis(200)).atMost(T).until(() -> rcc.queuedMessages() == 20 - 3 * window);

            client.setAutoAck(true);
            client.ack(); // from now on the client acks every window like spice-gtk
            for (int i = 3 * window; i < 20; i++) {
                assertThat(client.next().buf().getIntLE(0)).isEqualTo(i);
            }
            await().atMost(T).until(() -> rcc.queuedMessages() == 0 && rcc.queuedBytes() == 0);
        }
    }

    @Test
    void queueBoundRefusesAndSendOverflowDisconnects() throws Exception {
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withAckWindow(1).withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, 8)));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        AtomicInteger drained = new AtomicInteger();
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            rcc.setDrainListener(drained::incrementAndGet);
            client.next(); // SET_ACK; window 1: two more messages go out, then the queue fills
            int acceptedCount = 0;
            for (int i = 0; i < 20; i++) {
                if (rcc.trySend(msg(rcc, 200, i))) {
                    acceptedCount++;
                }
            }
            int accepted = acceptedCount;
            // the socket takes at most 2 before the window closes; the queue holds 8
            assertThat(accepted).isBetween(8, 10);
            assertThat(rcc.droppedMessages()).isEqualTo(20 - accepted);
            await().atMost(T).until(() -> rcc.queuedMessages() == accepted - 2);
            client.send(SpiceMessages.MSGC_ACK_SYNC, new byte[] {1, 0, 0, 0});
            client.setAutoAck(true);
            client.ack();
            await().atMost(T).until(() -> drained.get() == 1);
            for (int i = 0; i < accepted; i++) {
                client.next(200);
            }
            client.setAutoAck(false);
            // fill it again, then the control reserve, and overflow with send(): a counted, logged disconnect
            while (rcc.trySend(msg(rcc, 200, 0))) {
                // fill
            }
            long droppedBefore = rcc.droppedMessages();
            int controls = 0;
            while (rcc.droppedMessages() == droppedBefore) {
                rcc.send(msg(rcc, 200, 1));
                controls++;
            }
            // The reserve took at least its size (plus what the window let out meanwhile), then send() overflowed.
            assertThat(controls).isGreaterThan(RedChannelClient.CONTROL_RESERVE_MESSAGES);
            assertThat(client.awaitClosed(T)).isTrue();
            assertThat(display.disconnected.poll(10, TimeUnit.SECONDS)).isSameAs(rcc);
            assertThat(rcc.queuedMessages()).isZero();
            assertThat(main.isOpen()).isTrue(); // only that connection
        }
    }

    @Test
    void controlMessagesGetRoomInAQueueThatRefusesFrames() throws Exception {
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withAckWindow(1).withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, 8)));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            client.next(); // SET_ACK
            int frames = 0;
            while (rcc.trySend(msg(rcc, 200, frames))) {
                frames++;
            }
            assertThat(rcc.droppedMessages()).isEqualTo(1);
            // A stream restart while the queue refuses frames: the control messages must reach the client.
            for (int i = 0; i < 3; i++) {
                rcc.send(msg(rcc, 201, i));
            }
            await().during(Duration.ofMillis(300)).atMost(T).until(rcc::isConnected);
            assertThat(rcc.queuedMessages()).isGreaterThanOrEqualTo(8 - 2 + 3);

            client.send(SpiceMessages.MSGC_ACK_SYNC, new byte[] {1, 0, 0, 0});
            client.setAutoAck(true);
            client.ack();
            for (int i = 0; i < frames; i++) {
                assertThat(client.next(200).buf().getIntLE(0)).isEqualTo(i);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(client.next(201).buf().getIntLE(0)).isEqualTo(i);
            }
            assertThat(client.isOpen()).isTrue();
        }
    }

    @Test
    void clientThatNeverAcksIsCutOffEvenWhileItSendsOtherMessages() throws Exception {
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withAckWindow(1).withStuckClientTimeout(Duration.ofMillis(400))));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            for (int i = 0; i < 5; i++) {
                rcc.trySend(msg(rcc, 200, i));
            }
            // Reports, pings' answers, anything but an ACK: none of it moves the queue.
            await().atMost(T).pollInterval(Duration.ofMillis(50)).until(() -> {
                try {
                    client.send(150, new byte[] {1});
                } catch (Exception closedMeanwhile) {
                    // the server closed it between two messages
                }
                return !client.isOpen();
            });
            assertThat(display.disconnected.poll(10, TimeUnit.SECONDS)).isSameAs(rcc);
            assertThat(display.received).isNotEmpty();
            assertThat(main.isOpen()).isTrue();
        }
    }

    /** A display-like channel whose clients acknowledge every message (as the stream channel asks, R10). */
    private static TestChannel everyMessageAcked() {
        return new TestChannel(SpiceChannelType.DISPLAY, true, 1024) {
            @Override
            protected int ackWindow(int configured) {
                return 1;
            }
        };
    }

    @Test
    void framesAreTrackedUntilTheClientAcknowledgesEachOne() throws Exception {
        start(ServerConfig.DEFAULT);
        TestChannel display = everyMessageAcked();
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false).hidePings(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            SpiceTestClient.Message setAck = client.next();
            assertThat(setAck.buf().getIntLE(4)).isEqualTo(1);
            long t0 = System.nanoTime();
            assertThat(rcc.trySendFrame(msg(rcc, 200, 0), t0)).isTrue();
            rcc.send(msg(rcc, 201, 0)); // control messages are acknowledged too, but are no frames
            assertThat(rcc.trySendFrame(msg(rcc, 200, 1), t0 + 1)).isTrue();
            assertThat(rcc.undeliveredFrames()).isEqualTo(2);
            await().atMost(T).until(() -> rcc.oldestUndeliveredFrameNanos() == t0);
            // The client takes its messages in order and acknowledges each (a PING may come in between).
            int framesSeen = 0;
            while (framesSeen < 2) {
                SpiceTestClient.Message m = client.next();
                if (m.type() == 200) {
                    framesSeen++;
                }
                client.ack();
                if (m.type() == 200 && framesSeen == 1) {
                    await().atMost(T).until(() -> rcc.deliveredFrames() == 1);
                    assertThat(rcc.undeliveredFrames()).isEqualTo(1);
                    assertThat(rcc.oldestUndeliveredFrameNanos()).isEqualTo(t0 + 1);
                    assertThat(rcc.lastDeliveredFrameNanos()).isEqualTo(t0);
                    assertThat(rcc.lastDeliveryAgeNanos()).isBetween(0L, System.nanoTime() - t0);
                }
            }
            await().atMost(T).until(() -> rcc.deliveredFrames() == 2);
            assertThat(rcc.undeliveredFrames()).isZero();
            assertThat(rcc.oldestUndeliveredFrameNanos()).isEqualTo(Long.MIN_VALUE);
        }
    }

    @Test
    void clientThatNeverAcknowledgesItsFramesIsCutOffThoughItsQueueIsEmptyAndItAnswersPings() throws Exception {
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withStuckClientTimeout(Duration.ofMillis(400))
                .withPingInterval(Duration.ofMillis(100))));
        TestChannel display = everyMessageAcked();
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            rcc.trySendFrame(msg(rcc, 200, 0), System.nanoTime());
            await().atMost(T).until(() -> rcc.queuedMessages() == 0);
            assertThat(client.awaitClosed(T)).isTrue();
            assertThat(client.pongs()).isPositive();
            assertThat(main.isOpen()).isTrue();
        }
    }

    @Test
    void oversizedOrUnknownMessagesDisconnectOnlyThatClient() throws Exception {
        start(ServerConfig.DEFAULT);
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, false, 1024);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient a = main.linkChannel(SpiceChannelType.DISPLAY, 0);
                SpiceTestClient b = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
            a.send(150, new byte[] {1, 2, 3});
            assertThat(display.received.poll(10, TimeUnit.SECONDS).body()).containsExactly(1, 2, 3);
            // header announcing 1025 bytes: refused from the header alone
            a.sendRaw(new byte[] {(byte) 150, 0, 1, 4, 0, 0});
            assertThat(a.awaitClosed(T)).isTrue();
            assertThat(b.isOpen()).isTrue();
            b.send(250, new byte[0]); // unknown type
            assertThat(b.awaitClosed(T)).isTrue();
            assertThat(main.isOpen()).isTrue();
            main.send(SpiceMessages.MSGC_MIGRATE_FLUSH_MARK, new byte[0]); // unexpected common message
            assertThat(main.awaitClosed(T)).isTrue();
        }
    }

    @Test
    void pingIsAnsweredAndRoundTripMeasured() throws Exception {
        start(ServerConfig.DEFAULT);
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .hidePings(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            assertThat(client.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
            SpiceTestClient.Message ping = client.next();
            assertThat(ping.type()).isEqualTo(SpiceMessages.MSG_PING);
            assertThat(ping.body()).hasSize(12);
            assertThat(ping.buf().getIntLE(0)).isEqualTo(1);
            await().atMost(T).until(() -> rcc.roundTripNanos() > 0);
        }
    }

    @Test
    void closeSendsDisconnectingAndReleasesQueuedBuffers() throws Exception {
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withAckWindow(1)));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
        SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                .autoAck(false));
        RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
        for (int i = 0; i < 10; i++) {
            ByteBuf payload = rcc.alloc().directBuffer(1000).writeZero(1000);
            rcc.trySend(new OutgoingMessage(200, rcc.alloc().buffer(4).writeIntLE(i), payload));
        }
        await().atMost(T).until(() -> rcc.queuedMessages() == 8);
        server.close();
        assertThat(client.awaitClosed(T)).isTrue();
        assertThat(main.awaitClosed(T)).isTrue();
        assertThat(rcc.queuedMessages()).isZero();
        assertThat(rcc.queuedBytes()).isZero();
        SpiceTestClient.Message last = null;
        for (SpiceTestClient.Message m : main.drain()) {
            last = m;
        }
        assertThat(last).isNotNull();
        assertThat(last.type()).isEqualTo(SpiceMessages.MSG_DISCONNECTING);
        assertThat(display.disconnected.poll(10, TimeUnit.SECONDS)).isSameAs(rcc);
        assertThat(rcc.trySend(new OutgoingMessage(200, rcc.alloc().buffer(1).writeByte(1)))).isFalse();
        server = null;
    }

    @Test
    void setAckIsTheFirstMessageAndMatchesTheVector() throws Exception {
        start(ServerConfig.DEFAULT);
        TestChannel cursor = new TestChannel(SpiceChannelType.CURSOR, true, 1024);
        server.channels().register(cursor);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient c = main.linkChannel(SpiceChannelType.CURSOR, 0)) {
            assertThat(c.next().withMiniHeader()).isEqualTo(Vectors.bytes("s2c_set_ack"));
        }
    }

    @Test
    void clientThatStopsAckingIsDisconnectedAfterTheStuckTimeout() throws Exception {
        start(ServerConfig.DEFAULT.withConnection(ConnectionConfig.DEFAULT.withAckWindow(1).withStuckClientTimeout(Duration.ofMillis(400))));
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .autoAck(false))) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            for (int i = 0; i < 5; i++) {
                rcc.trySend(msg(rcc, 200, i));
            }
            assertThat(client.awaitClosed(T)).isTrue();
            assertThat(display.disconnected.poll(10, TimeUnit.SECONDS)).isSameAs(rcc);
            assertThat(main.isOpen()).isTrue(); // only the stuck connection
        }
    }

    @Test
    void concurrentProducersKeepTheirOwnOrderAndTheCountersBalance() throws Exception {
        start(ServerConfig.DEFAULT);
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        server.channels().register(display);
        int perThread = 300;
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            assertThat(client.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
            Thread[] producers = new Thread[3];
            for (int t = 0; t < producers.length; t++) {
                int type = 201 + t;
                producers[t] = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        rcc.send(msg(rcc, type, i));
                    }
                });
                producers[t].start();
            }
            for (Thread p : producers) {
                p.join();
            }
            int[] expected = new int[producers.length];
            for (int n = 0; n < perThread * producers.length; n++) {
                SpiceTestClient.Message m = client.next();
                int t = m.type() - 201;
                assertThat(m.buf().getIntLE(0)).isEqualTo(expected[t]++);
            }
            await().atMost(T).until(() -> rcc.queuedMessages() == 0 && rcc.queuedBytes() == 0);
            assertThat(rcc.droppedMessages()).isZero();
        }
    }
}
