package org.spicestream.it.robustness;

import static org.awaitility.Awaitility.await;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What this JVM holds, as the fault and soak tests compare it: open fds, live threads, heap after GC, RSS. */
public record Resources(int fds, int threads, long heapAfterGc, long rss, long directMemory) {

    private static final Logger LOG = LoggerFactory.getLogger(Resources.class);

    /** Open fds that may come and go on their own (JIT/GC/class loading, the JDK's lazily opened files). */
    static final int FD_TOLERANCE = 8;
    /** Live threads that may come and go on their own (common pool, JMX, reference handlers). */
    static final int THREAD_TOLERANCE = 4;
    /** Heap after GC may move by this much without anything leaking (class loading, JIT data, log buffers). */
    public static final long HEAP_TOLERANCE = 16L * 1024 * 1024;
    /** How long resources may take to return after a test's last close. */
    static final Duration QUIESCENCE = Duration.ofSeconds(20);

    public static Resources now() {
        return new Resources(fdCount(), threadCount(), measureHeapAfterGc(), measureRss(), measureDirectMemory());
    }

    static int fdCount() {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path ignored : fds) {
                n++;
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
        return n - 1; // the directory stream's own fd
    }

    static int threadCount() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /** Used heap after full collections (repeated until it stops falling, at most a few rounds). */
    public static long measureHeapAfterGc() {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            // Let reference processing and concurrent phases finish; this is measurement, not synchronisation.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (used >= best) {
                break;
            }
            best = used;
        }
        return best;
    }

    /** Resident set size from /proc/self/status, in bytes (-1 if unreadable). */
    static long measureRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Direct memory Netty allocated and has not freed (pools keep their chunks: compare loosely). */
    public static long measureDirectMemory() {
        long netty = Math.max(0, PlatformDependent.usedDirectMemory());
        long nio = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return netty + nio;
    }

    /** Waits until fds and threads are back within the tolerances of {@code before}; returns the final figures. */
    static Resources awaitBackTo(Resources before) {
        await().atMost(QUIESCENCE).pollInterval(Duration.ofMillis(100)).until(() ->
                fdCount() <= before.fds + FD_TOLERANCE && threadCount() <= before.threads + THREAD_TOLERANCE);
        return now();
    }

    public String describe() {
        return String.format("fds=%d threads=%d heapAfterGc=%.1f MiB rss=%.1f MiB direct=%.1f MiB", fds, threads,
                mib(heapAfterGc), mib(rss), mib(directMemory));
    }

    static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    public void log(String test, String when) {
        LOG.info("[robustness] {} {}: {}", test, when, describe());
    }
}
