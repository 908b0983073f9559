package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
    private static final Pattern CTXT = Pattern.compile("ctxt_switches:\\s+(\\d+)");
    /** Every generation's (or G1's whole heap's) "total …K, used …K" in GC.heap_info; metaspace lines differ. */
    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
    private static final Pattern RSS_ANON = Pattern.compile("RssAnon:\\s+(\\d+) kB");
    private static final Pattern RSS_FILE = Pattern.compile("RssFile:\\s+(\\d+) kB");

    private ProcessProbe() {}

    /** User + system CPU time of every thread of {@code pid}, in nanoseconds (10 ms resolution). */
    static long cpuNanos(long pid) throws IOException {
        long[] us = userSystemNanos(pid);
        return us[0] + us[1];
    }

    /** {user, system} CPU time of every thread of {@code pid}, in nanoseconds (10 ms resolution). */
    static long[] userSystemNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
        // the command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        int base = 3; // f[0] is field 3 (state)
        long tick = TimeUnit.SECONDS.toNanos(1) / CLOCK_TICKS_PER_SECOND;
        return new long[] {Long.parseLong(f[UTIME_FIELD - base]) * tick, Long.parseLong(f[UTIME_FIELD + 1 - base]) * tick};
    }

    /** CPU time (user + system) of the JIT compiler threads of {@code pid} ("C1/C2 CompilerThread…"), in ns. */
    static long compilerCpuNanos(long pid) throws IOException {
        return threadCpuNanos(pid, comm -> comm.contains("CompilerThre"));
    }

    /**
     * CPU time (user + system) of the server's Netty event-loop threads (its {@code MultiThreadIoEventLoopGroup}s name
     * them "multiThreadIoEventLoopGroup-…", shown as "multiThreadIoEv"): the data path itself, without the JVM's own
     * threads (GC, JIT, timers), in ns.
     */
    static long eventLoopCpuNanos(long pid) throws IOException {
        return threadCpuNanos(pid, comm -> comm.startsWith("multiThreadIoEv"));
    }

    private static long threadCpuNanos(long pid, Predicate<String> name) throws IOException {
        long tick = TimeUnit.SECONDS.toNanos(1) / CLOCK_TICKS_PER_SECOND;
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(t.resolve("stat"), StandardCharsets.US_ASCII);
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (!name.test(comm)) {
                        continue;
                    }
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    sum += (Long.parseLong(f[UTIME_FIELD - 3]) + Long.parseLong(f[UTIME_FIELD - 2])) * tick;
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return sum;
    }

    /** Voluntary + involuntary context switches of every thread of {@code pid} so far (threads that ended are lost). */
    static long contextSwitches(long pid) throws IOException {
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    Matcher m = CTXT.matcher(Files.readString(t.resolve("status"), StandardCharsets.US_ASCII));
                    while (m.find()) {
                        sum += Long.parseLong(m.group(1));
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return sum;
    }

    /** Resident set size in bytes. */
    static long rssBytes(long pid) throws IOException {
        Matcher m = VM_RSS.matcher(Files.readString(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII));
        return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
    }

    /**
     * {anonymous, file-backed} resident bytes: private memory (heap, metaspace, malloc, direct buffers) apart from
     * mapped files (the JVM's libraries, the class-data archive), which other processes may share.
     */
    static long[] rssAnonFileBytes(long pid) throws IOException {
        String status = Files.readString(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII);
        Matcher a = RSS_ANON.matcher(status);
        Matcher f = RSS_FILE.matcher(status);
        return new long[] {a.find() ? Long.parseLong(a.group(1)) * 1024 : -1, f.find() ? Long.parseLong(f.group(1)) * 1024 : -1};
    }

    /**
     * Java heap in use right after a full GC ({@code jcmd PID GC.run}, then {@code GC.heap_info}: the sum over the
     * generations, or G1's one heap line), or -1.
     */
    static long heapAfterGcBytes(long pid) {
        try {
            jcmd(pid, "GC.run");
            Matcher m = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
            long sum = -1;
            while (m.find()) {
                sum = Math.max(sum, 0) + Long.parseLong(m.group(1)) * 1024;
            }
            return sum;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** {@code jcmd PID VM.native_memory summary} (the server must run with -XX:NativeMemoryTracking=summary). */
    static String nativeMemory(long pid) throws IOException, InterruptedException {
        return jcmd(pid, "VM.native_memory", "summary");
    }

    /** Starts a JFR recording (profile settings) of {@code pid} for {@code duration}, written to {@code file}. */
    static void startJfr(long pid, Path file, Duration duration) throws IOException, InterruptedException {
        jcmd(pid, "JFR.start", "settings=profile", "duration=" + duration.toSeconds() + "s", "filename=" + file);
    }

    private static String jcmd(long pid, String... command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd");
        cmd.add(Long.toString(pid));
        cmd.addAll(java.util.List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(JCMD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException("jcmd timed out");
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
