package org.spicestream.reds.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.OutgoingMessage;

/** The send queue's ordering, bounds and congestion rules, on an EmbeddedChannel (no timing involved). */
class SendQueueTest {

    private static final int HEADER = Wire.MINI_HEADER_SIZE;

    private final EmbeddedChannel ch = new EmbeddedChannel();
    private final MessageHeaders headers = new MessageHeaders(true);
    private final List<Boolean> timedWritten = new ArrayList<>();

    @AfterEach
    void finish() {
        ch.finishAndReleaseAll();
    }

    private static OutgoingMessage message(int type, int bodySize) {
        return new OutgoingMessage(type, Unpooled.buffer(bodySize).writeZero(bodySize));
    }

    private SendQueue.Writer writer() {
        return (m, timed) -> {
            ch.write(headers.next(ch.alloc(), m.type(), m.bodySize()));
            ch.write(m.head());
            timedWritten.add(timed);
        };
    }

    private boolean offer(SendQueue q, OutgoingMessage m, boolean control) {
        long size = m.bodySize() + HEADER;
        if (!q.reserve(size, control)) {
            m.release();
            return false;
        }
        q.add(m, size, false);
        return true;
    }

    /** Types of the messages written and flushed so far, in order. */
    private List<Integer> writtenTypes() {
        List<Integer> types = new ArrayList<>();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            try {
                if (b.readableBytes() == HEADER) { // a header; bodies are never 6 bytes in these tests
                    types.add(b.getUnsignedShortLE(0));
                }
            } finally {
                b.release();
            }
        }
        return types;
    }

    @Test
    void messagesLeaveInTheOrderTheyWereAdded() {
        SendQueue q = new SendQueue(1 << 20, 100, 0, 0);
        for (int type = 101; type <= 110; type++) {
            assertThat(offer(q, message(type, 10), false)).isTrue();
        }
        assertThat(q.reserve(10 + HEADER, false)).isTrue();
        q.add(message(200, 10), 10 + HEADER, true); // a tracked frame
        assertThat(q.pump(ch, () -> true, writer())).isEqualTo(11);
        ch.flush();
        assertThat(writtenTypes()).containsExactly(101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 200);
        assertThat(timedWritten).endsWith(false, true);
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.queuedMessages()).isZero();
        assertThat(q.queuedBytes()).isZero();
    }

    @Test
    void writingStopsWhileTheChannelIsUnwritableAndResumesInOrder() {
        // what one message adds to the channel's pending bytes (its buffers plus Netty's per-entry overhead)
        OutgoingMessage probe = message(100, 14);
        writer().write(probe, false);
        long perMessage = ch.unsafe().outboundBuffer().totalPendingWriteBytes();
        ch.flush();
        assertThat(writtenTypes()).containsExactly(100);
        timedWritten.clear();
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark((int) perMessage / 2, (int) (perMessage * 5 / 2)));
        SendQueue q = new SendQueue(1 << 20, 100, 0, 0);
        for (int type = 101; type <= 106; type++) {
            offer(q, message(type, 14), false);
        }
        // the channel turns unwritable with the third message pending
        assertThat(q.pump(ch, () -> true, writer())).isEqualTo(3);
        assertThat(ch.isWritable()).isFalse();
        assertThat(q.size()).isEqualTo(3);
        assertThat(q.queuedMessages()).isEqualTo(3);
        assertThat(q.queuedBytes()).isEqualTo(3 * 20);
        ch.flush(); // the socket took it
        assertThat(ch.isWritable()).isTrue();
        assertThat(q.pump(ch, () -> true, writer())).isEqualTo(3);
        ch.flush();
        assertThat(writtenTypes()).containsExactly(101, 102, 103, 104, 105, 106);
        assertThat(q.queuedBytes()).isZero();
        assertThat(q.queuedMessages()).isZero();
    }

    @Test
    void aPumpEnteredAgainFromInsideAWriteDoesNotSplitAMessage() {
        SendQueue q = new SendQueue(1 << 20, 100, 0, 0);
        for (int i = 0; i < 3; i++) {
            offer(q, message(10 + i, 4), false);
        }
        List<Integer> events = new ArrayList<>();
        SendQueue.Writer[] writer = new SendQueue.Writer[1];
        writer[0] = (m, timed) -> {
            events.add(m.type()); // the header is out
            // an event the write fires (EmbeddedChannel even runs pending tasks inside write) pumps again
            assertThat(q.pump(ch, () -> true, writer[0])).isZero();
            events.add(-m.type()); // then the body
            m.release();
        };
        assertThat(q.pump(ch, () -> true, writer[0])).isEqualTo(3);
        assertThat(events).containsExactly(10, -10, 11, -11, 12, -12);
        assertThat(q.queuedMessages()).isZero();
    }

    @Test
    void aClosedGateHoldsTheRestBack() {
        SendQueue q = new SendQueue(1 << 20, 100, 0, 0);
        for (int type = 101; type <= 105; type++) {
            offer(q, message(type, 10), false);
        }
        AtomicInteger room = new AtomicInteger(2);
        assertThat(q.pump(ch, () -> room.getAndDecrement() > 0, writer())).isEqualTo(2);
        assertThat(q.pump(ch, () -> false, writer())).isZero();
        assertThat(q.pump(ch, () -> true, writer())).isEqualTo(3);
        ch.flush();
        assertThat(writtenTypes()).containsExactly(101, 102, 103, 104, 105);
    }

    @Test
    void theMessageBoundRefusesAndCountsAndTheControlReserveTakesTwoMore() {
        SendQueue q = new SendQueue(1 << 20, 4, 1024, 2);
        for (int i = 0; i < 4; i++) {
            assertThat(offer(q, message(101, 10), false)).isTrue();
        }
        OutgoingMessage refused = message(102, 10);
        assertThat(offer(q, refused, false)).isFalse();
        assertThat(refused.head().refCnt()).isZero();
        assertThat(q.dropped()).isEqualTo(1);
        assertThat(q.isCongested()).isTrue();
        assertThat(offer(q, message(103, 10), true)).isTrue();
        assertThat(offer(q, message(103, 10), true)).isTrue();
        assertThat(offer(q, message(103, 10), true)).isFalse();
        assertThat(q.dropped()).isEqualTo(2);
        assertThat(q.queuedMessages()).isEqualTo(6);
        q.releaseAll();
    }

    @Test
    void theByteBoundRefusesButOneLargeMessagePassesAnEmptyQueue() {
        SendQueue q = new SendQueue(100, 100, 50, 10);
        assertThat(offer(q, message(101, 500), false)).isTrue(); // alone: could never be sent otherwise
        assertThat(offer(q, message(102, 1), false)).isFalse();
        assertThat(q.pump(ch, () -> true, writer())).isEqualTo(1);
        assertThat(offer(q, message(103, 60 - HEADER), false)).isTrue();
        assertThat(offer(q, message(104, 50 - HEADER), false)).isFalse(); // 110 > 100
        assertThat(offer(q, message(105, 50 - HEADER), true)).isTrue(); // 110 <= 150 for a control message
        assertThat(offer(q, message(106, 50 - HEADER), true)).isFalse(); // 160 > 150
        assertThat(q.queuedBytes()).isEqualTo(110);
        q.pump(ch, () -> true, writer());
        ch.flush();
        assertThat(writtenTypes()).containsExactly(101, 103, 105);
    }

    @Test
    void congestedAboveHalfUntilDrainedBelowHalfReportedOnce() {
        SendQueue q = new SendQueue(1 << 20, 10, 0, 0);
        for (int i = 0; i < 5; i++) {
            offer(q, message(101, 10), false);
        }
        assertThat(q.isCongested()).isFalse(); // 5 of 10: not above half
        offer(q, message(101, 10), false);
        assertThat(q.isCongested()).isTrue();
        assertThat(q.takeDrained()).isFalse(); // 6 queued
        AtomicInteger room = new AtomicInteger(1);
        q.pump(ch, () -> room.getAndDecrement() > 0, writer());
        assertThat(q.takeDrained()).isFalse(); // 5: not below half
        room.set(1);
        q.pump(ch, () -> room.getAndDecrement() > 0, writer());
        assertThat(q.takeDrained()).isTrue(); // 4
        assertThat(q.isCongested()).isFalse();
        assertThat(q.takeDrained()).isFalse();
        q.releaseAll();
    }

    @Test
    void aRefusalMakesAnAlmostEmptyQueueCongestedUntilItDrains() {
        SendQueue q = new SendQueue(100, 10, 0, 0);
        assertThat(offer(q, message(101, 60 - HEADER), false)).isTrue();
        assertThat(q.isCongested()).isTrue(); // 60 of 100 bytes
        q.pump(ch, () -> true, writer());
        assertThat(q.takeDrained()).isTrue();
        assertThat(offer(q, message(102, 40 - HEADER), false)).isTrue();
        assertThat(offer(q, message(103, 70 - HEADER), false)).isFalse();
        assertThat(q.isCongested()).isTrue(); // refused, though 40 is below half
        assertThat(q.takeDrained()).isTrue();
        q.releaseAll();
    }

    @Test
    void releaseAllReleasesEveryMessageAndGivesTheRoomBack() {
        SendQueue q = new SendQueue(1 << 20, 10, 0, 0);
        List<OutgoingMessage> added = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            OutgoingMessage m = new OutgoingMessage(101, Unpooled.buffer(4).writeInt(i), Unpooled.buffer(4).writeInt(i));
            added.add(m);
            offer(q, m, false);
        }
        q.addUnbounded(message(102, 4), 4 + HEADER);
        assertThat(q.queuedMessages()).isEqualTo(4);
        q.releaseAll();
        assertThat(added).allSatisfy(m -> {
            assertThat(m.head().refCnt()).isZero();
            assertThat(m.payload().refCnt()).isZero();
        });
        assertThat(q.queuedMessages()).isZero();
        assertThat(q.queuedBytes()).isZero();
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void reservationsFromManyThreadsNeverPassTheBound() throws Exception {
        SendQueue q = new SendQueue(1000 * 16, 1000, 0, 0);
        int threads = 4;
        int perThread = 400;
        AtomicInteger accepted = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    if (q.reserve(10, false)) {
                        accepted.incrementAndGet();
                    }
                }
            });
            th.start();
            all.add(th);
        }
        start.countDown();
        for (Thread th : all) {
            th.join();
        }
        assertThat(accepted.get()).isEqualTo(1000);
        assertThat(q.dropped()).isEqualTo(threads * perThread - 1000);
        assertThat(q.queuedMessages()).isEqualTo(1000);
        assertThat(q.queuedBytes()).isEqualTo(10_000);
    }
}
