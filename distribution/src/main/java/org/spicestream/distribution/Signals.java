package org.spicestream.distribution;

/**
 * SIGTERM and SIGINT handlers, so that a termination signal leads to an orderly shutdown and exit code 0 (the
 * JVM's default for these signals is exit code 143 / 130 after the shutdown hooks).
 */
final class Signals {

    private Signals() {}

    /**
     * Runs {@code action} on SIGTERM and SIGINT. Each is installed on its own: a shell starts background jobs with
     * SIGINT ignored, and then only SIGTERM is handled. Returns whether the SIGTERM handler is installed.
     */
    static boolean onTermination(Runnable action) {
        boolean term = install("TERM", action);
        install("INT", action);
        return term;
    }

    @SuppressWarnings("restriction")
    private static boolean install(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> action.run());
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            return false; // -Xrs, or the signal is reserved here; the shutdown hook still closes everything
        }
    }
}
