package org.spicestream.transport.virtio.internal;

import java.time.Duration;

/** Exponential back-off between reconnect attempts: initial, doubled after every use, capped at max. */
public final class Backoff {

    private final Duration initial;
    private final Duration max;
    private Duration current;

    public Backoff(Duration initial, Duration max) {
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
}
