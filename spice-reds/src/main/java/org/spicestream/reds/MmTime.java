package org.spicestream.reds;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** The server's multimedia time: a monotonic clock in milliseconds with u32 wrap-around (B55). */
public final class MmTime {

    /**
     * The reference's fixed client clock margin ([ref] MM_TIME_DELTA, spice-wire §8.6); here only the ceiling of each
     * session's adaptive latency ({@link SessionClock}, R9).
     */
    public static final int MM_TIME_DELTA_MS = 400;

    private final LongSupplier nanoClock;

    public MmTime() {
        this(System::nanoTime);
    }

    /** For tests: a clock in nanoseconds. */
    public MmTime(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Current mm-time in ms; compare values with modular (u32) arithmetic. */
    public int now() {
        return (int) TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong());
    }

    /** The clock mm-time is read from, in nanoseconds. */
    long nanos() {
        return nanoClock.getAsLong();
    }
}
