package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.SpiceTestClient;

/** R9: each session's multimedia clock, its adaptation to video reports and MULTI_MEDIA_TIME on the wire. */
class SessionClockTest {

    private SpiceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ------------------------------------------------------------------ adaptation (a clock of our own)

    private final AtomicLong nanos = new AtomicLong(TimeUnit.SECONDS.toNanos(1000));
    private final MmTime mmTime = new MmTime(nanos::get);

    private void advance(long ms) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    private SessionClock clock(int latency, int max) {
        return new SessionClock(mmTime, new MmTimeConfig(Duration.ofMillis(latency), Duration.ofMillis(max)));
    }

    @Test
    void startsAtTheConfiguredLatency() {
        SessionClock clock = clock(25, 400);
        assertThat(clock.latencyMs()).isEqualTo(25);
        assertThat(clock.clientTime()).isEqualTo(mmTime.now() - 25);
    }

    @Test
    void lateFramesRaiseTheLatencyByTheirLatenessPlusTheSafetyMarginAtMostTheRaiseStepPerReport() {
        SessionClock clock = clock(10, 400);
        advance(50);
        clock.videoReport(mmTime.now(), 5, 3, -22);
        assertThat(clock.latencyMs()).isEqualTo(10 + 22 + SessionClock.SAFETY_MARGIN_MS);
        // Reports about frames stamped before the change show the old clock: no second raise for them.
        clock.videoReport(mmTime.now() - 1, 5, 5, -40);
        assertThat(clock.latencyMs()).isEqualTo(37);
        // Drops with a good last margin: the earlier frames were late by an unknown amount.
        advance(10);
        clock.videoReport(mmTime.now(), 5, 1, 20);
        assertThat(clock.latencyMs()).isEqualTo(37 + SessionClock.MIN_RAISE_MS);
        assertThat(clock.changes()).isEqualTo(2);
    }

    @Test
    void aSpikeRaisesByOneStepAndLatenessInTheNextReportByTheWholeLateness() {
        SessionClock clock = clock(10, 400);
        advance(50);
        // One spike of 300 ms: one step, not 300 ms for a minute.
        clock.videoReport(mmTime.now(), 5, 1, -300);
        assertThat(clock.latencyMs()).isEqualTo(10 + SessionClock.MAX_RAISE_MS);
        // Frames stamped after that raise are late again: the lack lasts, made up at once.
        advance(50);
        clock.videoReport(mmTime.now(), 5, 5, -100);
        assertThat(clock.latencyMs()).isEqualTo(10 + SessionClock.MAX_RAISE_MS + 100 + SessionClock.SAFETY_MARGIN_MS);
        assertThat(clock.changes()).isEqualTo(2);
    }

    @Test
    void aThinMarginWithoutLateFramesIsLeftAlone() {
        SessionClock clock = clock(10, 400);
        for (int t = 0; t < 5_000; t += 100) {
            advance(100);
            clock.videoReport(mmTime.now(), 5, 0, 1);
        }
        assertThat(clock.latencyMs()).isEqualTo(10);
        assertThat(clock.changes()).isZero();
    }

    @Test
    void aLastingLackOfMarginIsMadeUpWithinTwoReports() {
        SessionClock clock = clock(10, 400);
        int transfer = 130; // each frame needs 130 ms more than the clock gives it at first
        int reports = 0;
        while (clock.latencyMs() - 10 < transfer && reports < 20) {
            advance(50);
            clock.videoReport(mmTime.now(), 5, 5, clock.latencyMs() - 10 - transfer);
            reports++;
        }
        assertThat(reports).isLessThanOrEqualTo(2);
    }

    @Test
    void aFrameAcknowledgedLaterThanItsMarginRaisesTheLatencyWithoutAReport() {
        SessionClock clock = clock(10, 400);
        advance(200);
        // Acknowledged 100 ms after its stamp, just now: it reached the client ~90 ms after its time.
        clock.frameDelivered(ms(100), ms(100));
        assertThat(clock.latencyMs()).as("first raise capped like a report's").isEqualTo(10 + SessionClock.MAX_RAISE_MS);
        // A frame stamped before that change is no evidence about it.
        clock.frameDelivered(ms(100), ms(100));
        assertThat(clock.latencyMs()).isEqualTo(50);
        // One stamped after it and still late: a lasting lack, made up at once.
        advance(100);
        clock.frameDelivered(ms(100), ms(50));
        assertThat(clock.latencyMs()).isEqualTo(100 + SessionClock.SAFETY_MARGIN_MS);
        // Spare margin lowers it as a report's would: half the spare, at most one step per interval.
        advance(SessionClock.LOWER_AFTER_MS);
        clock.frameDelivered(ms(1), ms(1));
        assertThat(clock.latencyMs()).isEqualTo(105 - SessionClock.MAX_LOWER_STEP_MS);
        clock.frameDelivered(ms(1), ms(1));
        assertThat(clock.latencyMs()).isEqualTo(85);
    }

    @Test
    void aReportHeldBackLongerThanTheCeilingAndTheStaleBoundIsIgnored() {
        SessionClock clock = clock(10, 400);
        advance(3000);
        clock.videoReport(mmTime.now() - 400 - SessionClock.STALE_REPORT_MS - 1, 5, 5, -90);
        assertThat(clock.latencyMs()).isEqualTo(10);
        assertThat(clock.staleReports()).isEqualTo(1);
        clock.videoReport(mmTime.now() - 100, 5, 5, -20);
        assertThat(clock.latencyMs()).isEqualTo(10 + 20 + SessionClock.SAFETY_MARGIN_MS);
    }

    private static long ms(long ms) {
        return TimeUnit.MILLISECONDS.toNanos(ms);
    }

    @Test
    void neverAboveTheCeiling() {
        SessionClock clock = clock(10, 100);
        for (int i = 0; i < 20; i++) {
            advance(20);
            clock.videoReport(mmTime.now(), 5, 5, -500);
        }
        assertThat(clock.latencyMs()).isEqualTo(100);
    }

    @Test
    void spareMarginLowersInStepsNoFasterThanTheIntervalAndNotBelowTheConfiguredLatency() {
        SessionClock clock = clock(10, 400);
        for (int i = 0; i < 2; i++) {
            advance(10);
            clock.videoReport(mmTime.now(), 5, 5, -100); // → 50, then 155
        }
        int raised = clock.latencyMs();
        assertThat(raised).isEqualTo(155);
        int steps = 0;
        for (int t = 0; t < 60_000; t += 100) {
            advance(100);
            int before = clock.latencyMs();
            clock.videoReport(mmTime.now(), 5, 0, before - 3); // frames keep arriving ~3 ms after their stamp
            if (clock.latencyMs() != before) {
                steps++;
                assertThat(before - clock.latencyMs()).isBetween(1, SessionClock.MAX_LOWER_STEP_MS);
            }
        }
        assertThat(clock.latencyMs()).isEqualTo(10);
        // One step per interval at most: 145 ms down in steps of at most 20 ms takes at least 7 intervals.
        assertThat(steps).isGreaterThanOrEqualTo((raised - 10) / SessionClock.MAX_LOWER_STEP_MS);
    }

    @Test
    void aMarginJustAboveTheSafetyMarginIsKept() {
        SessionClock clock = clock(10, 400);
        advance(10);
        clock.videoReport(mmTime.now(), 5, 2, -20); // → 35
        for (int t = 0; t < 10_000; t += 100) {
            advance(100);
            clock.videoReport(mmTime.now(), 5, 0, SessionClock.SAFETY_MARGIN_MS);
        }
        assertThat(clock.latencyMs()).isEqualTo(35);
    }

    // ------------------------------------------------------------------ on the wire

    private SpiceServer start(MmTimeConfig mm) {
        server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing().withMmTime(mm));
        return server;
    }

    private static int u32(SpiceTestClient.Message m, int offset) {
        return ByteBuffer.wrap(m.body()).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
    }

    @Test
    void mainInitSetsTheClientClockTheConfiguredLatencyBehindNotTheReferences400Ms() {
        start(MmTimeConfig.DEFAULT.withLatency(Duration.ofMillis(30)));
        int before = server.mmTime().now();
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            int clientTime = u32(main.next(SpiceMessages.MSG_MAIN_INIT), 24);
            int after = server.mmTime().now();
            assertThat(clientTime - (before - 30)).isGreaterThanOrEqualTo(0);
            assertThat((after - 30) - clientTime).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void aRaiseReachesTheClientAsMultiMediaTime() {
        start(MmTimeConfig.DEFAULT);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            main.next(SpiceMessages.MSG_MAIN_INIT);
            SessionClock clock = server.sessions().get(0).clock();
            int before = server.mmTime().now();
            clock.videoReport(before, 5, 4, -25);
            int latency = (int) MmTimeConfig.DEFAULT_LATENCY.toMillis() + 25 + SessionClock.SAFETY_MARGIN_MS;
            assertThat(clock.latencyMs()).isEqualTo(latency);
            int clientTime = u32(main.next(SpiceMessages.MSG_MAIN_MULTI_MEDIA_TIME), 0);
            int after = server.mmTime().now();
            assertThat(clientTime - (before - latency)).isGreaterThanOrEqualTo(0);
            assertThat((after - latency) - clientTime).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void eachSessionHasItsOwnClock() {
        server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)));
        try (SpiceTestClient a = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient b = SpiceTestClient.connectMain(server.localAddress(), "")) {
            int idA = a.awaitSessionId();
            b.awaitSessionId();
            ClientSession sessionA = server.sessions().stream().filter(s -> s.id() == idA).findFirst().orElseThrow();
            sessionA.clock().videoReport(server.mmTime().now(), 5, 5, -50);
            a.next(SpiceMessages.MSG_MAIN_MULTI_MEDIA_TIME);
            assertThat(server.sessions()).filteredOn(s -> s.id() != idA).singleElement()
                    .satisfies(s -> assertThat(s.clock().latencyMs()).isEqualTo(10));
            assertThat(b.drain()).noneMatch(m -> m.type() == SpiceMessages.MSG_MAIN_MULTI_MEDIA_TIME);
        }
    }
}
