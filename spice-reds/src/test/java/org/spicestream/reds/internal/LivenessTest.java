package org.spicestream.reds.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.spicestream.reds.internal.Liveness.PingAction;

/** Pings and stuck detection on explicit times. */
class LivenessTest {

    private static final long MS = 1_000_000;
    private static final long TIMEOUT = 1000 * MS;

    @Test
    void onlyAnIdleConnectionIsPingedAndOnlyOnePingIsOutstanding() {
        Liveness l = new Liveness(0);
        assertThat(l.pingDue(false)).isEqualTo(PingAction.RETRY_LATER);
        assertThat(l.pingDue(true)).isEqualTo(PingAction.SEND);
        int id = l.pingSent(10 * MS);
        assertThat(l.pingDue(true)).isEqualTo(PingAction.WAIT);
        assertThat(l.pong(id + 1, 10 * MS, 12 * MS)).isFalse(); // not ours
        assertThat(l.pingOutstanding()).isTrue();
        assertThat(l.roundTripNanos()).isEqualTo(-1);
        assertThat(l.pong(id, 10 * MS, 13 * MS)).isTrue();
        assertThat(l.roundTripNanos()).isEqualTo(3 * MS);
        assertThat(l.pong(id, 10 * MS, 14 * MS)).isFalse(); // answered already
        assertThat(l.roundTripNanos()).isEqualTo(3 * MS);
        assertThat(l.pingDue(true)).isEqualTo(PingAction.SEND);
        assertThat(l.pingSent(20 * MS)).isEqualTo(id + 1);
    }

    @Test
    void aPongWithABogusTimestampStillEndsTheWaitSoThatPingsGoOn() {
        Liveness l = new Liveness(0);
        int id = l.pingSent(10 * MS);
        assertThat(l.pong(id, 50 * MS, 12 * MS)).isTrue(); // an echo from "the future": negative round trip
        assertThat(l.pingOutstanding()).isFalse();
        assertThat(l.pingDue(true)).isEqualTo(PingAction.SEND);
    }

    @Test
    void waitingForAnAckLongerThanTheTimeoutIsStuckUnlessThereWasProgress() {
        Liveness l = new Liveness(0);
        assertThat(l.stuckNanos(TIMEOUT + 1, false, TIMEOUT)).isEqualTo(-1); // nothing awaited: idle is fine
        assertThat(l.stuckNanos(TIMEOUT, true, TIMEOUT)).isEqualTo(-1);
        assertThat(l.stuckNanos(TIMEOUT + 1, true, TIMEOUT)).isEqualTo(TIMEOUT + 1);
        l.progress(500 * MS);
        assertThat(l.stuckNanos(TIMEOUT + 1, true, TIMEOUT)).isEqualTo(-1);
        assertThat(l.stuckNanos(1501 * MS, true, TIMEOUT)).isEqualTo(1001 * MS);
    }

    @Test
    void anUnansweredPingIsStuckEvenWhileOtherProgressHappens() {
        Liveness l = new Liveness(0);
        l.pingSent(100 * MS);
        l.progress(900 * MS);
        assertThat(l.stuckNanos(1100 * MS, false, TIMEOUT)).isEqualTo(-1);
        l.progress(1100 * MS);
        assertThat(l.stuckNanos(1101 * MS, false, TIMEOUT)).isEqualTo(1001 * MS);
    }
}
