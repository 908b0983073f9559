package org.spicestream.distribution;

/**
 * SIGTERM and SIGINT handlers, so that a termination signal leads to an orderly shutdown and exit code 0 (the
 * JVM's default for these signals is exit code 143 / 130 after the shutdown hooks).
 */
final class Signals {

    private Signals() {}

    /** Runs {@code action} on SIGTERM and SIGINT; false when this JVM does not allow signal handlers (-Xrs). */
    @SuppressWarnings("restriction")
    static boolean onTermination(Runnable action) {
        try {
            sun.misc.SignalHandler handler = sig -> action.run();
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            return false;
        }
    }
}
