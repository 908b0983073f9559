package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread that reads many {@link ReaderConnection}s without blocking, and resumes the ones that paused
 * themselves (slow readers) when their time comes.
 */
final class Reactor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Reactor.class);

    /** How long {@link #close()} waits for the thread. */
    static final long JOIN_TIMEOUT_MS = 5000;

    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<ReaderConnection> pending = new ConcurrentLinkedQueue<>();
    private final List<ReaderConnection> paused = new ArrayList<>();
    private final List<ReaderConnection> due = new ArrayList<>();
    private volatile boolean closed;

    Reactor(String name) throws IOException {
        selector = Selector.open();
        thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Hands a connected, linked channel to the reactor thread (non-blocking from now on). */
    void register(ReaderConnection c) {
        pending.add(c);
        selector.wakeup();
    }

    private void loop() {
        try {
            while (!closed) {
                long now = System.nanoTime();
                long timeoutMs = 0;
                for (ReaderConnection c : paused) {
                    long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(c.resumeAt() - now) + 1);
                    timeoutMs = timeoutMs == 0 ? ms : Math.min(timeoutMs, ms);
                }
                selector.select(timeoutMs);
                ReaderConnection c;
                while ((c = pending.poll()) != null) {
                    c.channel().configureBlocking(false);
                    c.key = c.channel().register(selector, SelectionKey.OP_READ, c);
                    step(c, c::process);
                }
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    ReaderConnection rc = (ReaderConnection) k.attachment();
                    if (!k.isValid()) {
                        continue;
                    }
                    if (k.isWritable()) {
                        step(rc, rc::flushOut);
                    }
                    if (k.isValid() && k.isReadable()) {
                        step(rc, rc::readAndProcess);
                    }
                }
                if (!paused.isEmpty()) {
                    now = System.nanoTime();
                    due.clear();
                    for (Iterator<ReaderConnection> pi = paused.iterator(); pi.hasNext(); ) {
                        ReaderConnection p = pi.next();
                        if (p.resumeAt() - now <= 0) {
                            pi.remove();
                            due.add(p);
                        }
                    }
                    for (ReaderConnection p : due) {
                        p.resumed();
                        step(p, p::process); // may pause it again (adds it to paused)
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.error("reactor stopped", e);
            }
        }
    }

    private interface IoStep {
        void run() throws IOException;
    }

    private void step(ReaderConnection c, IoStep s) {
        try {
            s.run();
            if (c.isPaused() && !paused.contains(c)) {
                paused.add(c);
            }
        } catch (IOException | RuntimeException e) {
            c.failed(e);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        selector.wakeup();
        try {
            thread.join(JOIN_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        selector.close();
    }
}
