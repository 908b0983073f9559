package org.spicestream.reds.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The ACK window's counting, gate and generations. */
class AckWindowTest {

    @Test
    void theGateClosesAfterMaxUnackedAndAnAckOfTheConfirmedGenerationOpensIt() {
        AckWindow w = new AckWindow(true, 1, 2);
        int gen = w.nextGeneration();
        for (int i = 0; i < 3; i++) {
            assertThat(w.blocked()).isFalse();
            w.written();
        }
        assertThat(w.blocked()).isTrue();
        assertThat(w.ack()).isEqualTo(AckWindow.IGNORED); // before ACK_SYNC: another generation
        assertThat(w.blocked()).isTrue();
        w.sync(gen);
        assertThat(w.ack()).isEqualTo(1);
        assertThat(w.blocked()).isFalse();
        assertThat(w.unacked()).isEqualTo(2);
    }

    @Test
    void anAckAcknowledgesAWindowAndNeverMoreThanWasWritten() {
        AckWindow w = new AckWindow(true, 20, 40);
        w.sync(w.nextGeneration());
        for (int i = 0; i < 25; i++) {
            w.written();
        }
        assertThat(w.ack()).isEqualTo(20);
        assertThat(w.ack()).isEqualTo(5);
        assertThat(w.ack()).isZero(); // nothing waited: no progress
        assertThat(w.unacked()).isZero();
    }

    @Test
    void acksOfAnOlderGenerationDoNotCount() {
        AckWindow w = new AckWindow(true, 1, 0);
        w.sync(w.nextGeneration());
        w.written();
        int newer = w.nextGeneration(); // a new SET_ACK went out; the client has not confirmed it
        assertThat(w.ack()).isEqualTo(AckWindow.IGNORED);
        assertThat(w.blocked()).isTrue();
        w.sync(newer);
        assertThat(w.ack()).isEqualTo(1);
    }

    @Test
    void withoutTheWindowNothingIsCountedAndTheGateStaysOpen() {
        AckWindow w = new AckWindow(false, 1, 0);
        w.sync(w.nextGeneration());
        for (int i = 0; i < 10; i++) {
            w.written();
        }
        assertThat(w.blocked()).isFalse();
        assertThat(w.unacked()).isZero();
        assertThat(w.ack()).isEqualTo(AckWindow.IGNORED);
    }
}
