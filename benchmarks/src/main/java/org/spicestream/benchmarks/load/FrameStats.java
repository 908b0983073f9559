package org.spicestream.benchmarks.load;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What one reader saw of the generator's frames: count, bytes, latency (arrival of the last byte − the timestamp
 * in the payload, in an HdrHistogram) and frames missing from the sequence. One writer thread; the runner
 * snapshots and resets it.
 */
public final class FrameStats {

    /** Largest latency recorded exactly; larger values are clamped to it (a frame an hour late is lost anyway). */
    static final long HIGHEST_TRACKABLE_NANOS = TimeUnit.HOURS.toNanos(1);
    /** Significant decimal digits of the histogram: values are known to 0.1 %. */
    static final int SIGNIFICANT_DIGITS = 3;

    /** A copy of the counters at one moment. */
    public record Snapshot(String name, long frames, long bytes, long missing, long reordered, Histogram latency) {}

    private final String name;
    private final Histogram latency = newHistogram();
    private long frames;
    private long bytes;
    private long missing;
    private long reordered;
    private int lastSeq = -1;
    private boolean seenAny;

    public FrameStats(String name) {
        this.name = name;
    }

    /** An empty latency histogram of the load tools' range and precision (nanoseconds). */
    public static Histogram newHistogram() {
        return new Histogram(HIGHEST_TRACKABLE_NANOS, SIGNIFICANT_DIGITS);
    }

    public String name() {
        return name;
    }

    /** A complete frame with sequence number {@code seq} and {@code size} payload bytes. */
    public synchronized void frame(int seq, long latencyNanos, long size) {
        frames++;
        bytes += size;
        latency.recordValue(Math.min(HIGHEST_TRACKABLE_NANOS, Math.max(0, latencyNanos)));
        if (seenAny) {
            int gap = seq - lastSeq; // int arithmetic: wraps like the 4-byte sequence number
            if (gap > 1) {
                missing += gap - 1;
            } else if (gap < 1) {
                reordered++;
            }
        }
        seenAny = true;
        lastSeq = seq;
    }

    /** Frames seen since the start (not reset). */
    public synchronized int lastSequence() {
        return lastSeq;
    }

    public synchronized Snapshot snapshot() {
        return new Snapshot(name, frames, bytes, missing, reordered, latency.copy());
    }

    /** Zeroes the counters; the sequence position is kept, so a gap across the reset still counts. */
    public synchronized void reset() {
        frames = 0;
        bytes = 0;
        missing = 0;
        reordered = 0;
        latency.reset();
    }
}
