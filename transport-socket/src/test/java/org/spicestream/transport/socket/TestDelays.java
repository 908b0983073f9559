package org.spicestream.transport.socket;

import java.time.Duration;

/** Short reconnect delays so that reconnect-heavy tests run fast. */
final class TestDelays {
    /** First reconnect delay in tests. */
    static final Duration INITIAL = Duration.ofMillis(10);

    /** Longest reconnect delay in tests. */
    static final Duration MAX = Duration.ofMillis(160);

    private TestDelays() {}
}
