package org.spicestream.distribution.control;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.spicestream.distribution.vm.RouteTickets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code spice-streamd ticket}: prints a signed route ticket for a VM (what a fleet manager hands a viewer). */
@Command(name = TicketCommand.NAME, mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints a signed, expiring route ticket for VM NAME: use it in place of the VM's name,",
            "  remote-viewer --spice-proxy=http://HOST:5900 spice://TICKET:5900",
            "or as the WebSocket path /vms/TICKET. Needs the server's --route-secret-file."})
public final class TicketCommand implements Callable<Integer> {

    /** The sub-command's name. */
    public static final String NAME = "ticket";
    /** Longest validity a ticket may be given. */
    public static final Duration MAX_TTL = Duration.ofDays(7);

    @Option(names = "--route-secret-file", paramLabel = "FILE", required = true,
            description = "the server's --route-secret-file")
    Path secretFile;

    @Option(names = "--vm", paramLabel = "NAME", required = true, description = "the VM the ticket routes to")
    String vm;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "5m",
            description = "how long the ticket is valid: 90s, 5m, 2h, PT10M (default: ${DEFAULT-VALUE})")
    String ttl;

    private PrintWriter out;
    private Clock clock = Clock.systemUTC();

    @Override
    public Integer call() {
        Duration d = Duration.between(clock.instant(), VmDefinition.expiry(ttl, clock));
        if (d.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("--ttl is longer than " + MAX_TTL.toDays() + " days");
        }
        out.println(RouteTickets.fromFile(secretFile).make(vm, clock.instant().plus(d)));
        out.flush();
        return 0;
    }

    /** Runs with {@code args}; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(Clock.systemUTC(), out, err, args);
    }

    static int run(Clock clock, PrintWriter out, PrintWriter err, String... args) {
        TicketCommand cmd = new TicketCommand();
        cmd.out = out;
        cmd.clock = clock;
        CommandLine cl = new CommandLine(cmd).setOut(out).setErr(err)
                .setExecutionExceptionHandler((e, line, parsed) -> {
                    err.println("spice-streamd ticket: " + e.getMessage());
                    err.flush();
                    return 1;
                });
        return cl.execute(args);
    }
}
