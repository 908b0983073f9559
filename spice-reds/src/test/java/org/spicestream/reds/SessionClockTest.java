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
    void lateFramesRaiseTheLatencyByTheirLatenessPlusTheSafetyMargin() {
        SessionClock clock = clock(10, 400);
        advance(50);
        clock.videoReport(mmTime.now(), 5, 3, -32);
        assertThat(clock.latencyMs()).isEqualTo(10 + 32 + SessionClock.SAFETY_MARGIN_MS);
        // Reports about frames stamped before the change show the old clock: no second raise for them.
        clock.videoReport(mmTime.now() - 1, 5, 5, -40);
        assertThat(clock.latencyMs()).isEqualTo(47);
        // Drops with a good last margin: the earlier frames were late by an unknown amount.
        advance(10);
        clock.videoReport(mmTime.now(), 5, 1, 20);
        assertThat(clock.latencyMs()).isEqualTo(47 + SessionClock.MIN_RAISE_MS);
        assertThat(clock.changes()).isEqualTo(2);
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
    void spareMarginLowersInSmallStepsNoFasterThanTheIntervalAndNotBelowTheConfiguredLatency() {
        SessionClock clock = clock(10, 400);
        advance(10);
        clock.videoReport(mmTime.now(), 5, 5, -100); // → 115
        int raised = clock.latencyMs();
        assertThat(raised).isEqualTo(115);
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
        assertThat(steps).isGreaterThanOrEqualTo((raised - 10) / SessionClock.MAX_LOWER_STEP_MS);
        // One step per interval at most: 105 ms down in 5 ms steps takes at least 21 intervals.
        assertThat(steps * SessionClock.LOWER_AFTER_MS).isLessThanOrEqualTo(60_000);
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
