package org.spicestream.reds;

import java.time.Duration;

/**
 * The multimedia-time policy of each session (R9): how far a client's clock runs behind the frames' timestamps.
 * A client that waits for a frame's time (spice-gtk) shows it about this much after it arrived; too little and
 * frames arrive "late" (spice-gtk drops late MJPEG frames), so each session starts at {@code latency} and
 * {@link SessionClock} raises it up to {@code maxLatency} when the client reports late frames, then lowers it back
 * towards {@code latency} while reports show spare margin.
 *
 * @param latency starting and lowest latency
 * @param maxLatency highest latency the adaptation may reach
 */
public record MmTimeConfig(Duration latency, Duration maxLatency) {

    /** Default starting and lowest latency: a frame's transfer on a LAN plus scheduling jitter. */
    public static final Duration DEFAULT_LATENCY = Duration.ofMillis(10);
    /** Default ceiling: the reference server's fixed margin ([ref] MM_TIME_DELTA). */
    public static final Duration DEFAULT_MAX_LATENCY = Duration.ofMillis(MmTime.MM_TIME_DELTA_MS);
    /** Largest value either may take: beyond it a client's video would be seconds behind. */
    public static final Duration LIMIT = Duration.ofSeconds(10);

    public static final MmTimeConfig DEFAULT = new MmTimeConfig(DEFAULT_LATENCY, DEFAULT_MAX_LATENCY);

    public MmTimeConfig {
        if (latency == null || latency.isNegative() || latency.compareTo(LIMIT) > 0) {
            throw new IllegalArgumentException("latency must be between 0 and " + LIMIT.toMillis() + " ms, not " + latency);
        }
        if (maxLatency == null || maxLatency.compareTo(latency) < 0 || maxLatency.compareTo(LIMIT) > 0) {
            throw new IllegalArgumentException("maxLatency must be between latency (" + latency.toMillis() + " ms) and "
                    + LIMIT.toMillis() + " ms, not " + maxLatency);
        }
    }

    /** The same policy starting at {@code newLatency} (the ceiling rises with it if needed). */
    public MmTimeConfig withLatency(Duration newLatency) {
        return new MmTimeConfig(newLatency, maxLatency.compareTo(newLatency) < 0 ? newLatency : maxLatency);
    }

    public MmTimeConfig withMaxLatency(Duration newMaxLatency) {
        return new MmTimeConfig(latency, newMaxLatency);
    }
}
