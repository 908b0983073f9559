package org.spicestream.reds;

import java.time.Duration;

/** Argument checks the configuration records share. */
final class Checks {
    private Checks() {}

    static void positive(long n, String name) {
        if (n <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, not " + n);
        }
    }

    static void positive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be > 0, not " + d);
        }
    }
}
