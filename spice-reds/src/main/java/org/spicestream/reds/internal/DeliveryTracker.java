package org.spicestream.reds.internal;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which timed messages (video frames) of one connection the client has acknowledged, and how old they were when it
 * did (R10). A timed message is stamped by its producer (the frame's arrival from the guest); the client's ACKs
 * (one per {@code window} messages, counted from the message after SET_ACK, as spice-gtk counts) tell which of the
 * written messages it has received. The bookkeeping is confined to the connection's event loop; the counters are
 * read from any thread.
 */
public final class DeliveryTracker {

    /** {@link #oldestUndeliveredStamp()} when nothing is undelivered. */
    public static final long NONE = Long.MIN_VALUE;

    /**
     * A written timed message: its stamp, its number among the messages written since SET_ACK, and when it was
     * written.
     */
    private record Written(long stamp, long index, long writtenAt) {}

    /** Weight of a new sample in the service-time average (1 / 4). */
    private static final int SERVICE_EWMA_SHIFT = 2;

    /** Stamps of queued timed messages not yet written, oldest first. */
    private final ArrayDeque<Long> unwritten = new ArrayDeque<>();
    /** Written timed messages not yet acknowledged, oldest first. */
    private final ArrayDeque<Written> inFlight = new ArrayDeque<>();
    private final AtomicInteger undelivered = new AtomicInteger();
    private long written;
    private long acknowledged;
    private volatile long oldestStamp = NONE;
    private volatile long delivered;
    private volatile long lastAgeNanos = -1;
    private volatile long lastStamp = NONE;
    private volatile long serviceNanos = -1;
    private long lastDeliveryAt;

    /** Any thread: a timed message was accepted for sending (before it reaches the loop). */
    public void accepted() {
        undelivered.incrementAndGet();
    }

    /** Any thread: an accepted timed message never reached the queue (refused or the connection closed). */
    public void abandoned() {
        undelivered.decrementAndGet();
    }

    /** Loop: an accepted timed message entered the send queue. */
    public void queued(long stamp) {
        unwritten.add(stamp);
        updateOldest();
    }

    /** Loop: SET_ACK was written; the client counts messages from the next one. */
    public void windowStarted() {
        written = 0;
        acknowledged = 0;
        // Messages written under an older window cannot be matched to the new count: forget them.
        undelivered.addAndGet(-inFlight.size());
        inFlight.clear();
        updateOldest();
    }

    /** Loop: a message was written to the socket; {@code timed} if it is the oldest unwritten timed message. */
    public void written(boolean timed, long nowNanos) {
        written++;
        if (timed && !unwritten.isEmpty()) {
            inFlight.add(new Written(unwritten.poll(), written, nowNanos));
        }
    }

    /** Loop: the client acknowledged {@code count} more messages at {@code nowNanos}; returns frames delivered. */
    public int acknowledged(long count, long nowNanos) {
        acknowledged = Math.min(written, acknowledged + count);
        return deliverUpTo(acknowledged, nowNanos);
    }

    /** Loop: everything written counts as delivered (a channel without ACKs). */
    public int deliverWritten(long nowNanos) {
        return deliverUpTo(written, nowNanos);
    }

    /** Loop: every entry goes (the queue was released, the connection closed). */
    public void clear() {
        int n = unwritten.size() + inFlight.size();
        unwritten.clear();
        inFlight.clear();
        oldestStamp = NONE;
        undelivered.addAndGet(-n);
    }

    /** Timed messages accepted and not yet acknowledged (queued, written or on their way to the queue). */
    public int undelivered() {
        return Math.max(0, undelivered.get());
    }

    /** Stamp of the oldest timed message not yet acknowledged, or {@link #NONE}. */
    public long oldestUndeliveredStamp() {
        return oldestStamp;
    }

    /** Timed messages acknowledged so far. */
    public long delivered() {
        return delivered;
    }

    /** Age (acknowledgement time minus stamp) of the newest acknowledged timed message, -1 before the first. */
    public long lastAgeNanos() {
        return lastAgeNanos;
    }

    /**
     * How long the client takes per timed message while it has more of them waiting (time between two
     * acknowledgements when the second message had been written before the first was acknowledged), averaged; -1
     * before the first such pair. A client that keeps up shows the stream's own frame interval here.
     */
    public long serviceNanos() {
        return serviceNanos;
    }

    /** Stamp of the newest acknowledged timed message, or {@link #NONE}. */
    public long lastStamp() {
        return lastStamp;
    }

    private int deliverUpTo(long index, long nowNanos) {
        int n = 0;
        Written w;
        while ((w = inFlight.peekFirst()) != null && w.index() <= index) {
            inFlight.pollFirst();
            n++;
            lastAgeNanos = nowNanos - w.stamp();
            lastStamp = w.stamp();
            // The client had this frame before it acknowledged the previous one: the gap is its time per frame.
            if (lastDeliveryAt != 0 && w.writtenAt() - lastDeliveryAt <= 0) {
                long sample = nowNanos - lastDeliveryAt;
                long s = serviceNanos;
                serviceNanos = s < 0 ? sample : s + ((sample - s) >> SERVICE_EWMA_SHIFT);
            }
            lastDeliveryAt = nowNanos;
        }
        if (n > 0) {
            undelivered.addAndGet(-n);
            delivered += n;
            updateOldest();
        }
        return n;
    }

    private void updateOldest() {
        Written w = inFlight.peekFirst();
        Long u = unwritten.peekFirst();
        oldestStamp = w != null ? w.stamp() : u != null ? u : NONE;
    }
}
