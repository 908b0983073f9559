package org.spicestream.testsupport.latency;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.spicestream.testsupport.latency.FrameTimeline.Event;

/**
 * Glass-to-glass latency: from the guest's write of a numbered frame to the client's picture showing that number,
 * on one clock. A draw of number N is matched to the latest write of N at or before it (a looping stream writes N
 * again one loop later, far more than any latency); the first draw of a write counts, redraws of the same picture
 * do not. A write counts as shown when a draw matched it.
 */
public final class GlassToGlass {

    private GlassToGlass() {}

    /**
     * What a measurement found.
     *
     * @param written frames written in the window
     * @param shown of those, frames some draw matched
     * @param draws draws in the window (client updates with a readable number)
     * @param latenciesNanos one per shown frame, ascending
     */
    public record Result(int written, int shown, int draws, long[] latenciesNanos) {

        /** Shown / written, 0 when nothing was written. */
        public double shownFraction() {
            return written == 0 ? 0 : (double) shown / written;
        }

        /** The {@code p}-th percentile (0…100) in milliseconds, NaN without samples. */
        public double percentileMs(double p) {
            if (latenciesNanos.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(p / 100.0 * latenciesNanos.length) - 1;
            return latenciesNanos[Math.min(latenciesNanos.length - 1, Math.max(0, i))] / 1e6;
        }

        public double p50Ms() {
            return percentileMs(50);
        }

        public double p99Ms() {
            return percentileMs(99);
        }

        public double maxMs() {
            return percentileMs(100);
        }

        /** Mean in milliseconds, NaN without samples. */
        public double meanMs() {
            return latenciesNanos.length == 0 ? Double.NaN : Arrays.stream(latenciesNanos).average().orElse(0) / 1e6;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "glass-to-glass p50 %.1f / p90 %.1f / p99 %.1f / max %.1f ms, %d of %d"
                    + " frames shown (%.1f %%), %d draws", p50Ms(), percentileMs(90), p99Ms(), maxMs(), shown, written,
                    100 * shownFraction(), draws);
        }
    }

    /**
     * Matches {@code draws} to {@code writes}, counting frames written in [{@code fromNanos}, {@code toNanos}) and
     * the draws of those frames whenever they came.
     */
    public static Result measure(List<Event> writes, List<Event> draws, long fromNanos, long toNanos) {
        Map<Integer, List<Long>> writesByNumber = new HashMap<>();
        int written = 0;
        for (Event w : writes) {
            writesByNumber.computeIfAbsent(w.number(), k -> new ArrayList<>()).add(w.nanos());
            if (w.nanos() - fromNanos >= 0 && w.nanos() - toNanos < 0) {
                written++;
            }
        }
        writesByNumber.values().forEach(l -> l.sort(Long::compare));
        Set<Long> matched = new HashSet<>();
        List<Long> latencies = new ArrayList<>();
        int drawsInWindow = 0;
        for (Event d : draws) {
            List<Long> times = writesByNumber.get(d.number());
            if (times == null) {
                continue;
            }
            long write = latestAtOrBefore(times, d.nanos());
            if (write == Long.MIN_VALUE || write - fromNanos < 0 || write - toNanos >= 0) {
                continue;
            }
            drawsInWindow++;
            if (matched.add(write)) {
                latencies.add(d.nanos() - write);
            }
        }
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new Result(written, matched.size(), drawsInWindow, sorted);
    }

    /** All events, measured over the span of the writes. */
    public static Result measure(List<Event> writes, List<Event> draws) {
        if (writes.isEmpty()) {
            return new Result(0, 0, 0, new long[0]);
        }
        long from = writes.stream().mapToLong(Event::nanos).min().orElseThrow();
        long to = writes.stream().mapToLong(Event::nanos).max().orElseThrow() + 1;
        return measure(writes, draws, from, to);
    }

    private static long latestAtOrBefore(List<Long> ascending, long t) {
        int lo = 0;
        int hi = ascending.size() - 1;
        long best = Long.MIN_VALUE;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long v = ascending.get(mid);
            if (v - t <= 0) {
                best = v;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }
}
