package org.spicestream.reds.internal;

/**
 * A connection's latency pings (B58) and stuck detection, without timers: the connection asks it when a timer
 * fires. One PING is outstanding at a time and only an idle connection is pinged; a connection is stuck when it
 * waited longer than the timeout for an ACK (no progress while messages wait or frames are unacknowledged) or for
 * the PONG. Progress is a write or a counted ACK, never another client message. Event-loop confined but
 * {@link #roundTripNanos}.
 */
public final class Liveness {

    /** What a ping timer does. */
    public enum PingAction {
        /** A PING is outstanding: the PONG schedules the next one, the stuck check judges the wait. */
        WAIT,
        /** The connection is busy: try again later. */
        RETRY_LATER,
        /** Send a PING now ({@link #pingSent}). */
        SEND
    }

    private int pingId;
    private boolean pingOutstanding;
    private long pingSentNanos;
    private long lastProgressNanos;
    private volatile long roundTripNanos = -1;

    public Liveness(long nowNanos) {
        this.lastProgressNanos = nowNanos;
    }

    /** What to do when the ping timer fires; {@code idle}: nothing queued and the socket writable. */
    public PingAction pingDue(boolean idle) {
        if (pingOutstanding) {
            return PingAction.WAIT;
        }
        return idle ? PingAction.SEND : PingAction.RETRY_LATER;
    }

    /** A PING goes out at {@code nowNanos}; returns its id. */
    public int pingSent(long nowNanos) {
        pingOutstanding = true;
        pingSentNanos = nowNanos;
        return ++pingId;
    }

    /**
     * A PONG: true when it answers the outstanding PING (its round trip is then {@link #roundTripNanos}), false when
     * it is ignored. The timestamp is the client's echo of ours and not checked: an answer with a bogus one still
     * ends the wait, so the next PING goes out.
     */
    public boolean pong(int id, long timestampNanos, long nowNanos) {
        if (!pingOutstanding || id != pingId) {
            return false;
        }
        pingOutstanding = false;
        roundTripNanos = nowNanos - timestampNanos;
        return true;
    }

    public boolean pingOutstanding() {
        return pingOutstanding;
    }

    /** The last measured round trip, -1 before the first PONG. Thread-safe. */
    public long roundTripNanos() {
        return roundTripNanos;
    }

    /** Messages went out or an ACK counted at {@code nowNanos}. */
    public void progress(long nowNanos) {
        lastProgressNanos = nowNanos;
    }

    /**
     * How long the connection has waited in vain, when that is longer than {@code timeoutNanos}, else -1.
     * {@code awaitingAck}: messages wait to be written or frames to be acknowledged.
     */
    public long stuckNanos(long nowNanos, boolean awaitingAck, long timeoutNanos) {
        long idle = nowNanos - lastProgressNanos;
        if (awaitingAck && idle > timeoutNanos) {
            return idle;
        }
        long pongWait = nowNanos - pingSentNanos;
        if (pingOutstanding && pongWait > timeoutNanos) {
            return pongWait;
        }
        return -1;
    }
}
