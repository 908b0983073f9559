package org.spicestream.testsupport.latency;

import java.util.ArrayList;
import java.util.List;

/**
 * Events of numbered frames on {@link System#nanoTime()}'s clock (CLOCK_MONOTONIC on Linux, the same clock as
 * Python's {@code time.monotonic_ns()} in another process): when a guest wrote frame N, or when a client showed a
 * picture reading N. Thread-safe, bounded to {@link #MAX_EVENTS}; events past the bound are counted, not kept.
 */
public final class FrameTimeline {

    /** Most events kept: an hour of 60 fps, a few MB. */
    public static final int MAX_EVENTS = 1 << 18;

    /** Frame {@code number} at {@code nanos}. */
    public record Event(int number, long nanos) {}

    private final List<Event> events = new ArrayList<>();
    private long overflow;

    public synchronized void add(int number, long nanos) {
        if (events.size() >= MAX_EVENTS) {
            overflow++;
            return;
        }
        events.add(new Event(number, nanos));
    }

    /** Records frame {@code number} now. */
    public void addNow(int number) {
        add(number, System.nanoTime());
    }

    /** A copy of the events, in the order they were added. */
    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** Events past {@link #MAX_EVENTS} that were dropped. */
    public synchronized long overflow() {
        return overflow;
    }

    public synchronized int size() {
        return events.size();
    }
}
