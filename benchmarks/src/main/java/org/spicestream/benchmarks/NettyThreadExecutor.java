package org.spicestream.benchmarks;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * JMH executor ({@code -Djmh.executor=CUSTOM -Djmh.executor.class=...}) whose threads are Netty
 * {@code FastThreadLocalThread}s, as the server's event loops are: the default allocator then uses its per-thread
 * caches, as it does on the server's frame path.
 */
public final class NettyThreadExecutor extends ThreadPoolExecutor {

    /** The JVM options that select this executor. */
    static final String EXECUTOR = "-Djmh.executor=CUSTOM";
    static final String EXECUTOR_CLASS = "-Djmh.executor.class=org.spicestream.benchmarks.NettyThreadExecutor";

    public NettyThreadExecutor(int maxThreads, String prefix) {
        super(maxThreads, maxThreads, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(prefix, true));
    }
}
