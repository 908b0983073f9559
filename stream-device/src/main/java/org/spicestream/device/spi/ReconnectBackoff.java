package org.spicestream.device.spi;

import java.time.Duration;

/**
 * Exponential back-off between a transport's reconnect attempts: initial, doubled after every use, capped at max.
 * Shared by the transports so that they all retry the same way. Not thread-safe: use it on the transport's loop.
 */
public final class ReconnectBackoff {

    private final Duration initial;
    private final Duration max;
    private Duration current;

    public ReconnectBackoff(Duration initial, Duration max) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("back-off needs 0 < initial <= max, got " + initial + ", " + max);
        }
        this.initial = initial;
        this.max = max;
        this.current = initial;
    }

    /** The delay to wait now; the following one is twice as long, up to the maximum. */
    public Duration next() {
        Duration d = current;
        Duration doubled = current.multipliedBy(2);
        current = doubled.compareTo(max) > 0 ? max : doubled;
        return d;
    }

    /** After a successful connection: the next delay is the initial one again. */
    public void reset() {
        current = initial;
    }

    public Duration initial() {
        return initial;
    }

    public Duration max() {
        return max;
    }

    /** The delay {@link #next()} would return. */
    public Duration peek() {
        return current;
    }
}
