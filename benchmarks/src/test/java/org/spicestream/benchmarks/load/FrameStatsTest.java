package org.spicestream.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class FrameStatsTest {

    static final long MS = 1_000_000;

    @Test
    void countsGapsAcrossReset() {
        FrameStats s = new FrameStats("t");
        s.frame(0, 1, 10);
        s.frame(1, 1, 10);
        s.reset();
        s.frame(4, 1, 10); // 2 and 3 missing
        s.frame(3, 1, 10); // out of order
        FrameStats.Snapshot snap = s.snapshot();
        assertThat(snap.frames()).isEqualTo(2);
        assertThat(snap.missing()).isEqualTo(2);
        assertThat(snap.reordered()).isEqualTo(1);
        assertThat(snap.bytes()).isEqualTo(20);
        assertThat(snap.latency().getTotalCount()).isEqualTo(2);
    }

    @Test
    void latencyIsKnownToAThousandthAndClamped() {
        FrameStats s = new FrameStats("t");
        s.frame(0, 1_234_567, 1);
        s.frame(1, -5, 1); // a clock step never makes a negative latency
        s.frame(2, Long.MAX_VALUE, 1);
        Histogram h = s.snapshot().latency();
        assertThat((double) h.getValueAtPercentile(50)).isCloseTo(1_234_567, within(1_234_567 * 0.001));
        assertThat(h.getMinValue()).isZero();
        assertThat(h.getMaxValue()).isGreaterThanOrEqualTo(FrameStats.HIGHEST_TRACKABLE_NANOS);
    }

    /**
     * At 60 fps, 99 frames of 1 ms and one stalled 200 ms: raw, p99 is 1 ms (one sample in a hundred); corrected,
     * the stall stands for the ≈ 11 frames that were due meanwhile, so p99 is in the stall.
     */
    @Test
    void fixedRateLatencyIsCorrectedForCoordinatedOmission() {
        FrameStats s = new FrameStats("client-0");
        for (int i = 0; i < 99; i++) {
            s.frame(i, MS, 1);
        }
        s.frame(99, 200 * MS, 1);
        Map<String, Object> r = new java.util.LinkedHashMap<>();
        Scenarios.summarize(r, List.of(s.snapshot()), 0, 1.0, 60);
        assertThat((double) r.get("latency_raw_p99_ms")).isCloseTo(1.0, within(0.01));
        assertThat((long) r.get("latency_raw_frames")).isEqualTo(100);
        assertThat((long) r.get("latency_frames")).isEqualTo(100 + 11); // 200 ms = 12 periods of 16.67 ms: 11 frames were due meanwhile
        assertThat((double) r.get("latency_p99_ms")).isGreaterThan(100);
        assertThat((double) r.get("latency_max_ms")).isCloseTo(200, within(0.2));
    }

    @Test
    void maxRateLatencyIsNotCorrected() {
        FrameStats s = new FrameStats("client-0");
        s.frame(0, MS, 1);
        s.frame(1, 200 * MS, 1);
        Map<String, Object> r = new java.util.LinkedHashMap<>();
        Scenarios.summarize(r, List.of(s.snapshot()), 0, 1.0, 0);
        assertThat((long) r.get("latency_frames")).isEqualTo(2);
        assertThat(r).doesNotContainKey("latency_raw_p99_ms");
    }

    @Test
    void mediansOfRepeatedRuns() {
        Map<String, Object> m = Medians.of(List.of(Map.of("a", 3.0, "s", "x"), Map.of("a", 1.0, "s", "y"),
                Map.of("a", 2.0, "s", "z")));
        assertThat(m).containsEntry("a", 2.0).containsEntry("s", "x").containsEntry("runs", 3);
        assertThat(Medians.median(List.of(1.0, 4.0))).isEqualTo(2.5);
    }
}
