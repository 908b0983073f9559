package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a process's CPU time and RSS from /proc, and its Java heap after a full GC through {@code jcmd}. */
final class ProcessProbe {

    /** Kernel clock ticks per second for /proc/PID/stat (USER_HZ, 100 on Linux). */
    static final long CLOCK_TICKS_PER_SECOND = 100;
    /** Fields 14 and 15 of /proc/PID/stat: utime, stime (counting from 1, the pid). */
    static final int UTIME_FIELD = 14;
    /** Longest wait for one jcmd call. */
    static final Duration JCMD_TIMEOUT = Duration.ofSeconds(20);

    private static final Pattern VM_RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    private ProcessProbe() {}

    /** User + system CPU time of every thread of {@code pid}, in nanoseconds (10 ms resolution). */
    static long cpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
        // the command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        int base = 3; // f[0] is field 3 (state)
        long ticks = Long.parseLong(f[UTIME_FIELD - base]) + Long.parseLong(f[UTIME_FIELD + 1 - base]);
        return ticks * (TimeUnit.SECONDS.toNanos(1) / CLOCK_TICKS_PER_SECOND);
    }

    /** Resident set size in bytes. */
    static long rssBytes(long pid) throws IOException {
        Matcher m = VM_RSS.matcher(Files.readString(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII));
        return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
    }

    /** Java heap in use right after a full GC ({@code jcmd PID GC.run}, then {@code GC.heap_info}), or -1. */
    static long heapAfterGcBytes(long pid) {
        try {
            jcmd(pid, "GC.run");
            Matcher m = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
            return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", Long.toString(pid), command)
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(JCMD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException("jcmd timed out");
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
