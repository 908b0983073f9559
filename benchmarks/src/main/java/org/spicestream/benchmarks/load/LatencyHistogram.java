package org.spicestream.benchmarks.load;

import java.util.Arrays;

/**
 * A fixed-bucket log-linear histogram of non-negative long values (nanoseconds here): every power of two is split
 * into {@link #SUB_BUCKETS} linear buckets, so a recorded value is known to within 1/{@value #SUB_BUCKETS} of itself.
 * Recording is a few shifts and an array increment, no allocation. Not thread-safe: one writer, copy to read.
 */
public final class LatencyHistogram {

    /** log2 of the linear buckets per power of two. */
    static final int SUB_BUCKET_BITS = 5;
    /** Linear buckets per power of two (relative precision ≈ 3 %). */
    public static final int SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
    /** Values at or above 2^this are counted in the last bucket (2^40 ns ≈ 18 minutes). */
    public static final int MAX_EXPONENT = 40;
    /** Number of buckets. */
    static final int BUCKETS = (MAX_EXPONENT - SUB_BUCKET_BITS + 1) * SUB_BUCKETS;

    private final long[] counts = new long[BUCKETS];
    private long total;
    private long max;
    private long min = Long.MAX_VALUE;
    private long sum;

    /** Records one value; negative values count as 0. */
    public void record(long value) {
        long v = Math.max(0, value);
        counts[index(v)]++;
        total++;
        sum += v;
        if (v > max) {
            max = v;
        }
        if (v < min) {
            min = v;
        }
    }

    static int index(long v) {
        if (v < SUB_BUCKETS) {
            return (int) v;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(v);
        if (exponent >= MAX_EXPONENT) {
            return BUCKETS - 1;
        }
        int shift = exponent - SUB_BUCKET_BITS;
        return (shift + 1) * SUB_BUCKETS + (int) ((v >>> shift) & (SUB_BUCKETS - 1));
    }

    /** The smallest value that falls into bucket {@code i}. */
    static long lowerBound(int i) {
        if (i < SUB_BUCKETS) {
            return i;
        }
        int shift = i / SUB_BUCKETS - 1;
        long sub = i % SUB_BUCKETS;
        return (SUB_BUCKETS + sub) << shift;
    }

    /** The largest value that falls into bucket {@code i}. */
    static long upperBound(int i) {
        return i == BUCKETS - 1 ? Long.MAX_VALUE : lowerBound(i + 1) - 1;
    }

    /** Adds every count of {@code other} to this histogram. */
    public void add(LatencyHistogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        sum += other.sum;
        max = Math.max(max, other.max);
        min = Math.min(min, other.min);
    }

    public void reset() {
        Arrays.fill(counts, 0);
        total = 0;
        sum = 0;
        max = 0;
        min = Long.MAX_VALUE;
    }

    public LatencyHistogram copy() {
        LatencyHistogram h = new LatencyHistogram();
        h.add(this);
        return h;
    }

    public long count() {
        return total;
    }

    public long max() {
        return max;
    }

    public long min() {
        return total == 0 ? 0 : min;
    }

    public double mean() {
        return total == 0 ? 0 : (double) sum / total;
    }

    /**
     * The value at {@code percentile} (0–100): the upper bound of the bucket holding that rank, capped at the
     * maximum recorded, so the result never understates (by at most one bucket width).
     */
    public long percentile(double percentile) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(percentile / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(upperBound(i), max);
            }
        }
        return max;
    }
}
