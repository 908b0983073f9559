package org.spicestream.it.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.testclient.SpiceTestClient;

/**
 * Issue 8, soak: 4 clients join and leave in a loop while the guest restarts periodically, for
 * {@code spicestream.soak.duration} (ISO-8601, default 60 s; {@code -Psoak}: 30 min). Heap after GC and open fds are
 * sampled at the start, the middle and the end of the run and must stay flat; every visit of a client sees frames.
 */
class SoakIT {

    private static final Logger LOG = LoggerFactory.getLogger(SoakIT.class);

    static final String DURATION_PROPERTY = "spicestream.soak.duration";
    static final Duration DEFAULT_DURATION = Duration.ofSeconds(60);
    static final int CLIENTS = 4;
    static final Duration GUEST_PERIOD = Duration.ofSeconds(5);
    static final int FPS = 30;
    static final int FRAME = 8 * 1024;
    /** Connections that may be open or not at a sampling instant: 4 clients × (main + display) × both ends + guest. */
    static final int FD_SWING = CLIENTS * 2 * 2 + 2;

    static Duration duration() {
        String value = System.getProperty(DURATION_PROPERTY, "");
        if (value.isBlank() || value.startsWith("${")) {
            return DEFAULT_DURATION;
        }
        try {
            return Duration.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(DURATION_PROPERTY + " must be an ISO-8601 duration such as PT30M: " + value, e);
        }
    }

    @Test
    void clientsJoinAndLeaveWhileTheGuestRestarts_heapAndFdsStayFlat() throws Exception {
        Duration duration = duration();
        // one-time initialisation (the test client's event loops, JDK lazily opened files) is not part of the soak
        try (Relay warmUp = new Relay(b -> b);
                SpiceTestClient c = SpiceTestClient.connect(warmUp.server.localAddress(), SpiceTestClient.options())) {
            assertThat(c.linkResult()).isZero();
        }
        Resources baseline = Resources.now();
        baseline.log("soak " + duration, "baseline");
        AtomicLong visits = new AtomicLong();
        AtomicLong framesReceived = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Resources> samples = new ArrayList<>();
        int restarts = 0;
        long framesSent = 0;
        try (Relay relay = new Relay(b -> b)) {
            long t0 = System.nanoTime();
            long deadline = t0 + duration.toNanos();
            List<Thread> workers = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Thread w = new Thread(() -> clientLoop(relay, deadline, visits, framesReceived, failures), "soak-client-" + i);
                w.setDaemon(true);
                workers.add(w);
                w.start();
            }
            StreamingGuest guest = StreamingGuest.agent(relay.socket, FRAME, FPS);
            long[] sampleAt = {t0 + duration.toNanos() / 10, t0 + duration.toNanos() / 2, deadline - duration.toNanos() / 20};
            String[] sampleNames = {"start", "middle", "end"};
            long nextRestart = System.nanoTime() + GUEST_PERIOD.toNanos();
            while (System.nanoTime() < deadline && failures.isEmpty()) {
                long now = System.nanoTime();
                if (samples.size() < sampleAt.length && now >= sampleAt[samples.size()]) {
                    Resources r = Resources.now();
                    r.log("soak " + duration, sampleNames[samples.size()] + " (" + TimeUnit.NANOSECONDS.toSeconds(now - t0)
                            + " s, " + visits.get() + " visits, " + restarts + " guest restarts)");
                    samples.add(r);
                } else if (now >= nextRestart) {
                    guest.close();
                    assertThat(guest.failure()).isNull();
                    framesSent += guest.framesSent();
                    // the transport takes the next guest once it has seen this one go
                    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                            .until(() -> !relay.device.isPortOpen());
                    guest = StreamingGuest.agent(relay.socket, FRAME, FPS);
                    restarts++;
                    nextRestart = now + GUEST_PERIOD.toNanos();
                } else {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // the soak's own pace
                }
            }
            for (Thread w : workers) {
                w.join(TimeUnit.SECONDS.toMillis(30));
            }
            guest.close();
            framesSent += guest.framesSent();
            assertThat(failures).as("client visits that failed").isEmpty();
            await().atMost(Duration.ofSeconds(20)).until(relay::isIdle);
            assertThat(relay.server.internalErrors()).isZero();
            assertThat(relay.device.protocolErrors()).isZero();
        }
        Resources after = Resources.awaitBackTo(baseline);
        after.log("soak " + duration, "after (everything closed)");
        LOG.info("[robustness] soak {}: {} client visits by {} clients, {} guest restarts, {} frames sent, {} frame deliveries to clients;"
                + " heap after GC start/middle/end {}/{}/{} MiB, fds {}/{}/{}, threads {}/{}/{}; after close: heap {} MiB,"
                + " fds {} (baseline {}), threads {} (baseline {})", duration, visits.get(), CLIENTS, restarts, framesSent,
                framesReceived.get(), mib(samples, 0), mib(samples, 1), mib(samples, 2), fds(samples, 0), fds(samples, 1),
                fds(samples, 2), threads(samples, 0), threads(samples, 1), threads(samples, 2),
                String.format("%.1f", Resources.mib(after.heapAfterGc())), after.fds(), baseline.fds(), after.threads(),
                baseline.threads());
        assertThat(samples).hasSize(3);
        Resources start = samples.get(0);
        for (Resources r : samples.subList(1, 3)) {
            assertThat(r.heapAfterGc()).as("heap after GC vs start").isLessThanOrEqualTo(start.heapAfterGc() + Resources.HEAP_TOLERANCE);
            assertThat(r.fds()).as("fds vs start").isLessThanOrEqualTo(start.fds() + FD_SWING + Resources.FD_TOLERANCE);
        }
        assertThat(after.heapAfterGc()).isLessThanOrEqualTo(baseline.heapAfterGc() + Resources.HEAP_TOLERANCE);
        assertThat(restarts).isGreaterThanOrEqualTo((int) (duration.toSeconds() / GUEST_PERIOD.toSeconds()) - 2);
        assertThat(visits.get()).isGreaterThanOrEqualTo(CLIENTS * 2L);
        assertThat(framesReceived.get()).isPositive();
    }

    /** Join (main + display), see at least one frame, stay a little, leave; again until the deadline. */
    private static void clientLoop(Relay relay, long deadline, AtomicLong visits, AtomicLong framesReceived,
            ConcurrentLinkedQueue<Throwable> failures) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (System.nanoTime() < deadline && failures.isEmpty()) {
            try (SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options());
                    SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
                if (display.linkResult() != 0) {
                    throw new AssertionError("display link result " + display.linkResult());
                }
                display.next(MSG_STREAM_DATA); // the stream is there (or back within the timeout after a restart)
                long frames = 1;
                long stay = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(200, 1500));
                while (System.nanoTime() < stay) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // a viewer watching, not synchronisation
                    frames += display.drain().stream().filter(m -> m.type() == MSG_STREAM_DATA).count();
                }
                framesReceived.addAndGet(frames);
                visits.incrementAndGet();
            } catch (Throwable t) {
                failures.add(t);
                LOG.error("soak client visit failed", t);
            }
        }
    }

    private static String mib(List<Resources> samples, int i) {
        return i < samples.size() ? String.format("%.1f", Resources.mib(samples.get(i).heapAfterGc())) : "-";
    }

    private static String fds(List<Resources> samples, int i) {
        return i < samples.size() ? String.valueOf(samples.get(i).fds()) : "-";
    }

    private static String threads(List<Resources> samples, int i) {
        return i < samples.size() ? String.valueOf(samples.get(i).threads()) : "-";
    }
}
