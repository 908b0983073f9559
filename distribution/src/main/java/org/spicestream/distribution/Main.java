package org.spicestream.distribution;

import com.google.inject.Guice;
import com.google.inject.Stage;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.distribution.control.CtlCommand;
import org.spicestream.distribution.control.TicketCommand;
import org.spicestream.distribution.guice.SpiceStreamdModule;

/**
 * Entry point of {@code spice-streamd}: parses the command line, wires the application with Guice, runs until
 * SIGTERM / SIGINT (Ctrl-C), then shuts down in order and exits 0.
 */
public final class Main {

    /** System property the Logback configuration reads for the root level. */
    public static final String LOG_LEVEL_PROPERTY = "spicestreamd.log.level";
    /** Exit code when the server cannot start. */
    public static final int EXIT_FAILURE = 1;
    /** Netty's leak detection level property; a server runs without the detector unless it is set. */
    public static final String LEAK_DETECTION_PROPERTY = "io.netty.leakDetection.level";
    /** After this long, a shutdown that hangs is cut short (exit code {@link #EXIT_FAILURE}). */
    public static final Duration SHUTDOWN_DEADLINE = Duration.ofMillis(4500);

    private Main() {}

    public static void main(String[] args) {
        serverDefaults();
        System.exit(run(args));
    }

    /** System properties of a server process, each unless given on the command line; before any Netty class loads. */
    static void serverDefaults() {
        System.setProperty("java.awt.headless", "true");
        if (System.getProperty("guice_bytecode_gen_option") == null) {
            // Guice AOP is unused; this avoids sun.misc.Unsafe warnings on JDK 24+
            System.setProperty("guice_bytecode_gen_option", "DISABLED");
        }
        if (System.getProperty(LEAK_DETECTION_PROPERTY) == null) {
            // The detector samples buffer allocations with a stack trace; tests run it at PARANOID instead. To look
            // for a leak in production: -Dio.netty.leakDetection.level=simple (README "Memory").
            System.setProperty(LEAK_DETECTION_PROPERTY, "disabled");
        }
    }

    /** Runs until a termination signal; returns the exit code. */
    static int run(String[] args) {
        Charset cs = Charset.defaultCharset();
        PrintWriter out = new PrintWriter(System.out, true, cs);
        PrintWriter err = new PrintWriter(System.err, true, cs);
        if (args.length > 0 && args[0].equals(CtlCommand.NAME)) {
            return CtlCommand.run(out, err, java.util.Arrays.copyOfRange(args, 1, args.length));
        }
        if (args.length > 0 && args[0].equals(TicketCommand.NAME)) {
            return TicketCommand.run(out, err, java.util.Arrays.copyOfRange(args, 1, args.length));
        }
        SpiceStreamdCommand.Outcome outcome = SpiceStreamdCommand.parse(out, err, args);
        if (!outcome.run()) {
            return outcome.exitCode();
        }
        Settings settings = outcome.settings();
        // before the first logger exists: logback.xml reads it
        System.setProperty(LOG_LEVEL_PROPERTY, settings.logLevel().name());
        Logger log = LoggerFactory.getLogger(Main.class);

        SpiceStreamd app;
        try {
            app = Guice.createInjector(Stage.PRODUCTION, new SpiceStreamdModule(settings))
                    .getInstance(SpiceStreamd.class);
            app.start();
        } catch (RuntimeException e) {
            log.error("spice-streamd cannot start: {}", rootMessage(e));
            log.debug("start failure", e);
            return EXIT_FAILURE;
        }

        CountDownLatch stop = new CountDownLatch(1);
        AtomicBoolean stopped = new AtomicBoolean();
        boolean signals = Signals.onTermination(stop::countDown);
        // Fallback (and for exits we did not start): close from a shutdown hook. With the signal handlers the
        // hook finds everything closed already.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stopped.compareAndSet(false, true)) {
                app.close();
            }
        }, "spice-streamd-shutdown"));
        if (!signals) {
            log.debug("no signal handlers: SIGTERM ends the JVM through the shutdown hook");
        }
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("termination requested");
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(SHUTDOWN_DEADLINE.toMillis());
                log.error("shutdown did not finish within {} ms; exiting", SHUTDOWN_DEADLINE.toMillis());
                Runtime.getRuntime().halt(EXIT_FAILURE);
            } catch (InterruptedException e) {
                // finished in time
            }
        }, "spice-streamd-shutdown-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        if (stopped.compareAndSet(false, true)) {
            app.close();
        }
        watchdog.interrupt();
        return 0;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        String msg = e.getMessage();
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) {
                msg = msg == null ? t.getMessage() : msg;
            }
        }
        return msg == null ? e.toString() : msg;
    }
}
