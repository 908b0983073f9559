package org.spicestream.it.browser;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.spicestream.it.browser.ClientPage.DrawnFrame;
import org.spicestream.it.stream.TestGuestAgent.FrameWrite;

/**
 * Glass-to-glass latency of one display from the guest's side (when each frame's DATA started into the port) and
 * the page's side (when the picture carrying that frame's number was drawn), on the same wall clock.
 *
 * @param written frames the guest wrote inside the window
 * @param shown how many of those were drawn
 * @param latencies milliseconds from write to draw of every frame drawn in the window, sorted
 */
record GlassToGlass(int written, int shown, List<Double> latencies) {

    /** A write may seem to follow its draw by this much (the two clocks are read in different processes). */
    static final long CLOCK_SLACK_MICROS = 2000;

    /**
     * Matches every drawn frame of {@code display} to the latest write of its number before it was drawn. Frames
     * written in [{@code fromMicros}, {@code toMicros}) count as written; only draws after {@code fromMicros} count.
     */
    static GlassToGlass of(List<FrameWrite> writes, List<DrawnFrame> frames, int display, long fromMicros, long toMicros) {
        Map<Integer, List<Long>> byIndex = new HashMap<>();
        int written = 0;
        for (FrameWrite w : writes) {
            byIndex.computeIfAbsent(w.index(), k -> new ArrayList<>()).add(w.epochMicros());
            if (w.epochMicros() >= fromMicros && w.epochMicros() < toMicros) {
                written++;
            }
        }
        Set<Long> shownWrites = new HashSet<>();
        List<Double> latencies = new ArrayList<>();
        for (DrawnFrame f : frames) {
            if (f.display() != display || f.number() < 0 || f.drawnMicros() < fromMicros) {
                continue;
            }
            List<Long> times = byIndex.get(f.number());
            if (times == null) {
                continue;
            }
            long best = Long.MIN_VALUE;
            for (long t : times) {
                if (t <= f.drawnMicros() + CLOCK_SLACK_MICROS && t > best) {
                    best = t;
                }
            }
            if (best == Long.MIN_VALUE) {
                continue;
            }
            latencies.add((f.drawnMicros() - best) / 1000.0);
            if (best >= fromMicros && best < toMicros) {
                shownWrites.add(best);
            }
        }
        latencies.sort(null);
        return new GlassToGlass(written, shownWrites.size(), List.copyOf(latencies));
    }

    double percentile(double p) {
        if (latencies.isEmpty()) {
            return Double.NaN;
        }
        return latencies.get(Math.min(latencies.size() - 1, (int) Math.floor(p * latencies.size())));
    }

    double shownFraction() {
        return written == 0 ? 0 : (double) shown / written;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "p50 %.1f ms, p99 %.1f ms, max %.1f ms, shown %d of %d (%.1f %%)",
                percentile(0.5), percentile(0.99), latencies.isEmpty() ? Double.NaN : latencies.get(latencies.size() - 1),
                shown, written, 100 * shownFraction());
    }
}
