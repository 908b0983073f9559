package org.spicestream.reds.internal;

import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.spicestream.reds.OutgoingMessage;

/**
 * One connection's bounded send queue. Room is reserved from any thread ({@link #reserve}) before a message hops
 * to the connection's event loop, so the bound holds for messages still on their way; the queue itself, its order
 * and the writing ({@link #pump}) are confined to that loop.
 *
 * <p>Rules: a message is refused when it would pass the message bound or the byte bound, except that one message
 * larger than the byte bound passes an empty queue (it could never be sent otherwise); a control message may use
 * a reserve beyond both bounds. Messages leave in the order they were added, only while the channel is writable
 * and the gate (the ACK window) is open. The queue is congested from a refusal or from more than half of either
 * bound until it drains below half of both; {@link #takeDrained} reports that moment once.
 */
public final class SendQueue {

    /** A queued message; {@code size} counts the header; {@code timed}: a frame whose delivery is tracked. */
    public record Queued(OutgoingMessage message, long size, boolean timed) {}

    /** Writes one message to the channel (header, head, payload) without flushing. */
    @FunctionalInterface
    public interface Writer {
        void write(OutgoingMessage message, boolean timed);
    }

    private final long maxBytes;
    private final int maxMessages;
    private final long reserveBytes;
    private final int reserveMessages;

    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicInteger queuedMessages = new AtomicInteger();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean congested;

    // event-loop confined
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    private boolean pumping;

    /**
     * @param maxBytes bound of the bytes (headers included) reserved and not yet written
     * @param maxMessages bound of the messages reserved and not yet written
     * @param reserveBytes bytes a control message may use beyond {@code maxBytes}
     * @param reserveMessages messages a control message may use beyond {@code maxMessages}
     */
    public SendQueue(long maxBytes, int maxMessages, long reserveBytes, int reserveMessages) {
        if (maxBytes <= 0 || maxMessages <= 0 || reserveBytes < 0 || reserveMessages < 0) {
            throw new IllegalArgumentException("bounds must be positive, reserves not negative");
        }
        this.maxBytes = maxBytes;
        this.maxMessages = maxMessages;
        this.reserveBytes = reserveBytes;
        this.reserveMessages = reserveMessages;
    }

    // ------------------------------------------------------------------ any thread

    /**
     * Reserves room for a message of {@code size} bytes (header included); false when a bound refuses it, which
     * counts a drop and makes the queue congested. Thread-safe.
     */
    public boolean reserve(long size, boolean control) {
        if (!tryReserve(size, control)) {
            dropped.increment();
            congested = true;
            return false;
        }
        if (aboveHalf()) {
            congested = true;
        }
        return true;
    }

    /** Gives back what {@link #reserve} took for a message that will not be added. Thread-safe. */
    public void unreserve(long size) {
        queuedBytes.addAndGet(-size);
        queuedMessages.decrementAndGet();
    }

    /** Bytes (headers included) reserved and not yet handed to the channel. */
    public long queuedBytes() {
        return queuedBytes.get();
    }

    /** Messages reserved and not yet handed to the channel. */
    public int queuedMessages() {
        return queuedMessages.get();
    }

    /** From a refusal or more than half of a bound until the queue drained below half of both. */
    public boolean isCongested() {
        return congested;
    }

    /** Messages refused so far. */
    public long dropped() {
        return dropped.sum();
    }

    // ------------------------------------------------------------------ event loop

    /** Adds a message whose room was reserved. */
    public void add(OutgoingMessage message, long size, boolean timed) {
        queue.add(new Queued(message, size, timed));
    }

    /** Adds a message of the connection's own (SET_ACK, PING) outside the bounds: it reserves without a check. */
    public void addUnbounded(OutgoingMessage message, long size) {
        queuedBytes.addAndGet(size);
        queuedMessages.incrementAndGet();
        add(message, size, false);
    }

    /**
     * Writes queued messages in order while {@code ch} is writable and {@code gateOpen} says so; returns how many
     * were written (the caller flushes). A call from inside {@code writer} (an event the write fired, such as a
     * writability change) returns 0 and the running pump goes on: another message's bytes never land between one
     * message's header, head and payload.
     */
    public int pump(Channel ch, BooleanSupplier gateOpen, Writer writer) {
        if (pumping) {
            return 0;
        }
        pumping = true;
        int written = 0;
        try {
            while (!queue.isEmpty() && ch.isWritable() && gateOpen.getAsBoolean()) {
                Queued q = queue.poll();
                writer.write(q.message(), q.timed());
                unreserve(q.size());
                written++;
            }
        } finally {
            pumping = false;
        }
        return written;
    }

    /** True once when a congested queue has drained below half of both bounds (then it is no longer congested). */
    public boolean takeDrained() {
        if (congested && queuedBytes.get() < maxBytes / 2 && queuedMessages.get() < maxMessages / 2) {
            congested = false;
            return true;
        }
        return false;
    }

    /** Messages waiting on the loop (not those still on their way to it). */
    public int size() {
        return queue.size();
    }

    public boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Releases every queued message and gives its room back. */
    public void releaseAll() {
        Queued q;
        while ((q = queue.poll()) != null) {
            unreserve(q.size());
            q.message().release();
        }
    }

    // ------------------------------------------------------------------ internals

    private boolean aboveHalf() {
        return queuedBytes.get() > maxBytes / 2 || queuedMessages.get() > maxMessages / 2;
    }

    private boolean tryReserve(long size, boolean control) {
        int messageBound = control ? maxMessages + reserveMessages : maxMessages;
        long byteBound = control ? maxBytes + reserveBytes : maxBytes;
        while (true) {
            int msgs = queuedMessages.get();
            if (msgs + 1 > messageBound) {
                return false;
            }
            if (queuedMessages.compareAndSet(msgs, msgs + 1)) {
                break;
            }
        }
        while (true) {
            long bytes = queuedBytes.get();
            // a single message larger than the bound may pass an empty queue, or it could never be sent
            if (bytes + size > byteBound && bytes != 0) {
                queuedMessages.decrementAndGet();
                return false;
            }
            if (queuedBytes.compareAndSet(bytes, bytes + size)) {
                return true;
            }
        }
    }
}
