package org.spicestream.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

    @Test
    void bucketsAreContiguousAndTight() {
        for (int i = 0; i < LatencyHistogram.BUCKETS - 1; i++) {
            assertThat(LatencyHistogram.lowerBound(i + 1)).isEqualTo(LatencyHistogram.upperBound(i) + 1);
            long lo = LatencyHistogram.lowerBound(i);
            assertThat(LatencyHistogram.index(lo)).isEqualTo(i);
            assertThat(LatencyHistogram.index(LatencyHistogram.upperBound(i))).isEqualTo(i);
            // relative width at most 1/SUB_BUCKETS
            assertThat(LatencyHistogram.upperBound(i) - lo + 1).isLessThanOrEqualTo(Math.max(1, lo / LatencyHistogram.SUB_BUCKETS));
        }
    }

    @Test
    void percentilesOfAUniformSpread() {
        LatencyHistogram h = new LatencyHistogram();
        for (long v = 1; v <= 100_000; v++) {
            h.record(v * 1000); // 1 µs .. 100 ms
        }
        assertThat(h.count()).isEqualTo(100_000);
        assertThat((double) h.percentile(50)).isCloseTo(50e6, within(50e6 * 0.035));
        assertThat((double) h.percentile(99)).isCloseTo(99e6, within(99e6 * 0.035));
        assertThat(h.percentile(100)).isEqualTo(100_000_000L);
        assertThat(h.max()).isEqualTo(100_000_000L);
        assertThat(h.min()).isEqualTo(1000);
    }

    @Test
    void addMergesAndResetClears() {
        LatencyHistogram a = new LatencyHistogram();
        LatencyHistogram b = new LatencyHistogram();
        a.record(10);
        b.record(1_000_000);
        b.record(-5); // counts as 0
        a.add(b);
        assertThat(a.count()).isEqualTo(3);
        assertThat(a.max()).isEqualTo(1_000_000);
        assertThat(a.min()).isZero();
        a.reset();
        assertThat(a.count()).isZero();
        assertThat(a.percentile(99)).isZero();
    }

    @Test
    void frameStatsCountGapsAcrossReset() {
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
    }
}
