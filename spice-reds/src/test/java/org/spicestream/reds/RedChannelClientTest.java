package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.TestChannel;

/**
 * A connection built from its parts (decoder, headers, send queue, ACK window, liveness, delivery tracking) as the
 * link stage wires it, driven on an EmbeddedChannel: the ordering, ACK and congestion rules without sockets or
 * timing.
 */
class RedChannelClientTest {

    private static final int LINK_BYTES = 4;
    private static final int DATA = 150;
    private static final int FRAME = 160;
    private static final int CONFIGURED_WINDOW = ConnectionConfig.DEFAULT_ACK_WINDOW;
    /** Messages written without an ACK beyond which the gate closes: 2 × the configured window. */
    private static final int MAX_UNACKED = 2 * CONFIGURED_WINDOW;

    /** A display-like channel: ACK window of one message, so every frame is acknowledged on its own (R10). */
    private static final class OneWindowChannel extends TestChannel {
        OneWindowChannel() {
            super(SpiceChannelType.DISPLAY, true, 1024);
        }

        @Override
        protected int ackWindow(int configured) {
            return 1;
        }
    }

    /**
     * Stands in for {@link LinkHandler}: takes the link bytes, installs the connection's handlers, starts it and
     * removes itself from inside its decode, so that what the client sent behind the link goes on to the
     * connection's decoder as leftover of this one.
     */
    private static final class FakeLink extends ByteToMessageDecoder {
        private final RedChannelClient[] rcc;

        FakeLink(RedChannelClient[] rcc) {
            this.rcc = rcc;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (in.readableBytes() < LINK_BYTES) {
                return;
            }
            in.skipBytes(LINK_BYTES);
            rcc[0].addHandlers(ctx.pipeline(), ctx.name());
            rcc[0].start();
            ctx.pipeline().remove(this);
        }
    }

    private record Msg(int type, byte[] body) {}

    private SpiceServer server;
    private EmbeddedChannel ch;
    private RedChannelClient rcc;
    private final ByteBuf written = Unpooled.buffer();
    private final List<Msg> drained = new ArrayList<>();

    @AfterEach
    void stop() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        written.release();
        if (server != null) {
            server.close();
        }
    }

    private void connect(RedChannel channel) {
        connect(channel, ConnectionConfig.DEFAULT);
    }

    private void connect(RedChannel channel, ConnectionConfig connection) {
        server = SpiceServer.start(ServerConfig.DEFAULT.withListen(ListenConfig.of("127.0.0.1", 0))
                .withAuth(AuthConfig.TICKETING_DISABLED).withConnection(connection));
        RedChannelClient[] holder = new RedChannelClient[1];
        ch = new EmbeddedChannel(new FakeLink(holder));
        Session session = new Session(1, ch.remoteAddress(), new SessionClock(server.mmTime(), server.config().mmTime()));
        rcc = new RedChannelClient(server, channel, session, ch, true, new int[0], new int[0]);
        holder[0] = rcc;
    }

    private static byte[] mini(int type, byte[] body) {
        ByteBuf b = Unpooled.buffer();
        b.writeShortLE(type).writeIntLE(body.length).writeBytes(body);
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        return bytes;
    }

    private static byte[] ackSync(int generation) {
        return mini(SpiceMessages.MSGC_ACK_SYNC, Unpooled.buffer(4).writeIntLE(generation).array());
    }

    private static byte[] ack() {
        return mini(SpiceMessages.MSGC_ACK, new byte[0]);
    }

    private void receive(byte[]... parts) {
        ByteBuf b = Unpooled.buffer();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        ch.writeInbound(b);
    }

    /** Messages the connection wrote since the last call, parsed from the mini headers. */
    private List<Msg> sent() {
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            written.writeBytes(b);
            b.release();
        }
        List<Msg> msgs = new ArrayList<>();
        while (written.readableBytes() >= 6) {
            int type = written.getUnsignedShortLE(written.readerIndex());
            int size = written.getIntLE(written.readerIndex() + 2);
            if (written.readableBytes() < 6 + size) {
                break;
            }
            written.skipBytes(6);
            byte[] body = new byte[size];
            written.readBytes(body);
            msgs.add(new Msg(type, body));
        }
        written.discardReadBytes();
        return msgs;
    }

    private static List<Integer> types(List<Msg> msgs) {
        return msgs.stream().map(Msg::type).toList();
    }

    private OutgoingMessage message(int type, int marker) {
        return new OutgoingMessage(type, Unpooled.buffer(1).writeByte(marker));
    }

    /** Links, answers SET_ACK with ACK_SYNC; returns the SET_ACK's generation and window. */
    private int[] linkAndSync(byte[]... behindTheLink) {
        byte[][] parts = new byte[behindTheLink.length + 1][];
        parts[0] = new byte[LINK_BYTES];
        System.arraycopy(behindTheLink, 0, parts, 1, behindTheLink.length);
        receive(parts);
        List<Msg> first = sent();
        assertThat(first).isNotEmpty();
        assertThat(first.get(0).type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
        ByteBuf setAck = Unpooled.wrappedBuffer(first.get(0).body());
        return new int[] {setAck.readIntLE(), setAck.readIntLE()};
    }

    @Test
    void aFrameIsInFlightUntilTheClientAcknowledgesIt() {
        connect(new OneWindowChannel());
        int[] setAck = linkAndSync();
        assertThat(setAck).containsExactly(1, 1);
        receive(ackSync(1));

        assertThat(rcc.trySendFrame(message(FRAME, 1), 1000)).isTrue();
        assertThat(types(sent())).containsExactly(FRAME);
        assertThat(rcc.undeliveredFrames()).isEqualTo(1);
        assertThat(rcc.oldestUndeliveredFrameNanos()).isEqualTo(1000);

        receive(ack());
        assertThat(rcc.undeliveredFrames()).isZero();
        assertThat(rcc.deliveredFrames()).isEqualTo(1);
        assertThat(rcc.lastDeliveredFrameNanos()).isEqualTo(1000);
    }

    @Test
    void bytesTheClientSentBehindTheLinkReachTheConnectionInOrder() {
        TestChannel channel = new OneWindowChannel();
        connect(channel);
        // a channel message pipelined behind the link, then (as a fast client could) the ACK_SYNC and an ACK,
        // all in the read that completes the link
        linkAndSync(mini(DATA, new byte[] {7}), ackSync(1), ack());
        assertThat(channel.received).hasSize(1);
        assertThat(channel.received.peek().body()).containsExactly(7);
        // the early ACK counted (ACK_SYNC was handled before it) but acknowledged nothing written after SET_ACK
        assertThat(rcc.trySendFrame(message(FRAME, 1), 1000)).isTrue();
        sent();
        assertThat(rcc.undeliveredFrames()).isEqualTo(1);
        receive(ack());
        assertThat(rcc.undeliveredFrames()).isZero();
    }

    @Test
    void acksCountOnlyAfterTheClientConfirmedTheGeneration() {
        connect(new OneWindowChannel());
        linkAndSync();
        assertThat(rcc.trySendFrame(message(FRAME, 1), 1000)).isTrue();
        sent();
        receive(ack()); // before ACK_SYNC: not of this generation
        assertThat(rcc.undeliveredFrames()).isEqualTo(1);
        receive(ackSync(1));
        receive(ack());
        assertThat(rcc.undeliveredFrames()).isZero();
    }

    @Test
    void theAckWindowHoldsMessagesBackInOrderUntilAnAck() {
        connect(new TestChannel(SpiceChannelType.DISPLAY, true, 1024));
        int[] setAck = linkAndSync();
        assertThat(setAck[1]).isEqualTo(CONFIGURED_WINDOW);
        receive(ackSync(setAck[0]));
        int total = MAX_UNACKED + 10;
        for (int i = 0; i < total; i++) {
            assertThat(rcc.trySend(message(DATA, i))).isTrue();
        }
        // SET_ACK counts as written: the gate closes once more than MAX_UNACKED messages wait for an ACK
        List<Msg> first = sent();
        assertThat(first).hasSize(MAX_UNACKED);
        assertThat(rcc.queuedMessages()).isEqualTo(total - MAX_UNACKED);
        receive(ack());
        List<Msg> rest = sent();
        assertThat(rest).hasSize(10);
        List<Integer> markers = new ArrayList<>();
        for (Msg m : first) {
            markers.add((int) m.body()[0]);
        }
        for (Msg m : rest) {
            markers.add((int) m.body()[0]);
        }
        for (int i = 0; i < markers.size(); i++) {
            assertThat(markers.get(i)).isEqualTo(i);
        }
    }

    @Test
    void anUnwritableSocketHoldsTheQueueWhichCongestsRefusesAndWakesTheProducerOnceDrained() {
        int max = 8;
        connect(new TestChannel(SpiceChannelType.INPUTS, false, 1024),
                ConnectionConfig.DEFAULT.withSendQueue(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES, max));
        receive(new byte[LINK_BYTES]); // no SET_ACK on a channel without the ACK window
        assertThat(sent()).isEmpty();
        AtomicInteger drains = new AtomicInteger();
        rcc.setDrainListener(drains::incrementAndGet);
        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, false); // as a socket whose buffer is full

        for (int i = 0; i < max / 2; i++) {
            assertThat(rcc.trySend(message(DATA, i))).isTrue();
        }
        assertThat(rcc.isCongested()).as("at half of the bound").isFalse();
        assertThat(rcc.trySend(message(DATA, max / 2))).isTrue();
        assertThat(rcc.isCongested()).as("above half").isTrue();
        for (int i = max / 2 + 1; i < max; i++) {
            assertThat(rcc.trySend(message(DATA, i))).isTrue();
        }
        assertThat(rcc.trySend(message(DATA, 99))).as("beyond the bound").isFalse();
        assertThat(rcc.droppedMessages()).isEqualTo(1);
        rcc.send(message(DATA, max)); // a control message takes the reserve
        assertThat(rcc.isConnected()).isTrue();
        assertThat(sent()).isEmpty();
        assertThat(drains).hasValue(0);

        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        ch.runPendingTasks();
        assertThat(rcc.queuedMessages()).isZero();
        assertThat(rcc.isCongested()).isFalse();
        assertThat(drains).hasValue(1);
        List<Msg> msgs = sent();
        assertThat(msgs).hasSize(max + 1);
        for (int i = 0; i <= max; i++) {
            assertThat(msgs.get(i).body()[0]).isEqualTo((byte) i);
        }
    }

    @Test
    void anIdleConnectionIsPingedAndThePongGivesTheRoundTrip() {
        connect(new OneWindowChannel());
        linkAndSync();
        receive(ackSync(1));
        ch.advanceTimeBy(RedChannelClient.FIRST_PING_DELAY_MS, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        List<Msg> msgs = sent();
        assertThat(types(msgs)).containsExactly(SpiceMessages.MSG_PING);
        ByteBuf ping = Unpooled.wrappedBuffer(msgs.get(0).body());
        int id = ping.readIntLE();
        long stamp = ping.readLongLE();
        assertThat(rcc.roundTripNanos()).isEqualTo(-1);
        receive(ack(), mini(SpiceMessages.MSGC_PONG, Unpooled.buffer(12).writeIntLE(id).writeLongLE(stamp).array()));
        assertThat(rcc.roundTripNanos()).isGreaterThanOrEqualTo(0);

        // the PONG schedules the next PING one interval later
        ch.advanceTimeBy(ConnectionConfig.DEFAULT_PING_INTERVAL.toMillis() - 1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(sent()).isEmpty();
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        msgs = sent();
        assertThat(types(msgs)).containsExactly(SpiceMessages.MSG_PING);
        assertThat(Unpooled.wrappedBuffer(msgs.get(0).body()).readIntLE()).isEqualTo(id + 1);
    }
}
