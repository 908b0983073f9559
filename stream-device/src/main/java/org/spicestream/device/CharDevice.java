package org.spicestream.device;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestPortHandler;
import org.spicestream.device.spi.GuestTransport;

/**
 * Base of a character device bound to a guest port: open / close / reset semantics (server behaviour B5–B7 with
 * R5's order), a bounded host → guest write queue, reasons to pause reading from the guest, and the error state
 * after a protocol violation (B10).
 *
 * <p>Threading: all state is confined to the transport's {@link #executor()}; every hook runs there and {@link
 * #writeToGuest}, {@link #pauseReading}, {@link #resumeReading} and {@link #enterErrorState} must be called
 * there (the pause methods hop to it when called elsewhere). Counter getters may be read from any thread.
 *
 * <p>Port opened (B5, R5): (1) the base is reset — host → guest writes not yet handed to the transport are
 * dropped and the error state is cleared; (2) the port is marked open; (3) {@link #onPortOpened()} runs, so the
 * first thing it queues (CAPABILITIES) is the first thing the guest receives; (4) {@link #onReset()} runs (parser
 * and channel reset, which may queue START_STOP after CAPABILITIES).
 *
 * <p>Port closed (B6): (1) the port is marked closed, so later writes are dropped (B21); (2) the base is reset;
 * (3) {@link #onPortClosed()}; (4) {@link #onReset()}. Other port events do not exist in {@link GuestPortHandler},
 * so they are ignored by construction (B7). Pause reasons survive a reset: their owners release them.
 */
public abstract class CharDevice implements GuestPortHandler, AutoCloseable {

    /**
     * Default bound of the host → guest queue in bytes (256 KiB). Host → guest messages are small (START_STOP,
     * NOTIFY_ERROR: a few hundred bytes), so this is only reached when the guest stops reading.
     */
    public static final int DEFAULT_MAX_QUEUED_WRITE_BYTES = 256 * 1024;

    /** Default bound of the host → guest queue in messages. */
    public static final int DEFAULT_MAX_QUEUED_WRITES = 1024;

    private static final Logger log = LoggerFactory.getLogger(CharDevice.class);

    private final String name;
    private final GuestTransport transport;
    private final EventExecutor executor;
    private final int maxQueuedWriteBytes;
    private final int maxQueuedWrites;

    /** A queued host → guest write and what runs once it left the queue (handed to the transport or dropped). */
    private record Write(ByteBuf data, Runnable done) {}

    private final ArrayDeque<Write> writeQueue = new ArrayDeque<>();
    private long queuedWriteBytes;
    private final Set<Object> pauseReasons = new LinkedHashSet<>();
    private boolean transportPaused;
    private boolean portOpen;
    private boolean writable = true;
    private String errorReason;
    private boolean disablePending;
    private boolean started;

    // Written on the executor only; volatile so that metrics can read them from anywhere.
    private volatile long bytesIn;
    private volatile long bytesDiscarded;
    private volatile long bytesOut;
    private volatile long resets;
    private volatile long errors;
    private volatile long droppedWrites;

    /** A device with the default write-queue bounds. */
    protected CharDevice(String name, GuestTransport transport) {
        this(name, transport, DEFAULT_MAX_QUEUED_WRITE_BYTES, DEFAULT_MAX_QUEUED_WRITES);
    }

    /**
     * @param name the device name, in every log line
     * @param transport the guest port
     * @param maxQueuedWriteBytes bound of the host → guest queue in bytes (at least 1)
     * @param maxQueuedWrites bound of the host → guest queue in messages (at least 1)
     */
    protected CharDevice(String name, GuestTransport transport, int maxQueuedWriteBytes, int maxQueuedWrites) {
        this.name = Objects.requireNonNull(name, "name");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.executor = transport.executor();
        if (maxQueuedWriteBytes < 1 || maxQueuedWrites < 1) {
            throw new IllegalArgumentException("write queue bounds must be positive");
        }
        this.maxQueuedWriteBytes = maxQueuedWriteBytes;
        this.maxQueuedWrites = maxQueuedWrites;
    }

    /** Starts the transport; events arrive from now on. */
    public void start() {
        if (started) {
            throw new IllegalStateException(name + ": already started");
        }
        started = true;
        log.info("{}: starting on {}", name, transport.describe());
        transport.start(this);
    }

    /** Closes the transport (the port closes if it was open). */
    @Override
    public void close() {
        transport.close();
    }

    // ---- subclass hooks ----

    /** The guest opened the port; the base was reset and writes are accepted. Queue the first message here. */
    protected void onPortOpened() {}

    /** Guest bytes (borrowed: valid during the call; retain to keep). Not called in the error state. */
    protected abstract void onData(ByteBuf borrowed);

    /** The guest closed the port; writes are no longer accepted. */
    protected void onPortClosed() {}

    /** Reset after every open and close (parser position, channel state). */
    protected void onReset() {}

    /** Guest bytes the parser knows are coming (the rest of an announced message); 0 when none are known. */
    protected int expectedBytes() {
        return 0;
    }

    // ---- GuestPortHandler ----

    @Override
    public final void portOpened() {
        log.info("{}: guest opened the port", name);
        resetBase();
        writable = true;
        portOpen = true;
        safely("onPortOpened", this::onPortOpened);
        safely("onReset", this::onReset);
    }

    @Override
    public final void portClosed() {
        log.info("{}: guest closed the port", name);
        portOpen = false;
        resetBase();
        safely("onPortClosed", this::onPortClosed);
        safely("onReset", this::onReset);
    }

    @Override
    public final void dataReceived(ByteBuf data) {
        int n = data.readableBytes();
        bytesIn += n;
        if (!portOpen) {
            bytesDiscarded += n;
            log.debug("{}: discarding {} guest bytes received while the port is closed", name, n);
            return;
        }
        if (errorReason != null) {
            bytesDiscarded += n;
            return;
        }
        try {
            onData(data);
        } catch (RuntimeException e) {
            log.error("{}: failed handling guest data", name, e);
            enterErrorState("internal error: " + e);
        }
    }

    @Override
    public final int pendingBytes() {
        // In the error state (or closed) everything read is discarded: no reason to read big.
        return portOpen && errorReason == null ? expectedBytes() : 0;
    }

    @Override
    public final void writabilityChanged(boolean writable) {
        this.writable = writable;
        if (writable) {
            drainWrites();
        }
    }

    // ---- host → guest ----

    /**
     * Queues bytes for the guest, taking ownership. Returns {@code false} and releases the buffer when the port is
     * closed (the write is dropped, not deferred: B21) or when the queue bound would be exceeded (logged and
     * counted in {@link #droppedWrites()}; the queue stays usable). Must be called on {@link #executor()}.
     */
    protected final boolean writeToGuest(ByteBuf data) {
        return writeToGuest(data, null);
    }

    /**
     * As {@link #writeToGuest(ByteBuf)}; {@code done} (nullable) runs on the executor once the bytes left the queue:
     * handed to the transport, refused by it, or dropped (queue full, port closed, reset) — at once when dropped here.
     */
    protected final boolean writeToGuest(ByteBuf data, Runnable done) {
        if (!executor.inEventLoop()) {
            data.release();
            throw new IllegalStateException(name + ": writeToGuest called outside the device executor");
        }
        if (!portOpen) {
            log.debug("{}: dropping a {}-byte write, the port is closed", name, data.readableBytes());
            data.release();
            runDone(done);
            return false;
        }
        int n = data.readableBytes();
        if (writeQueue.size() + 1 > maxQueuedWrites || queuedWriteBytes + n > maxQueuedWriteBytes) {
            droppedWrites++;
            log.warn("{}: host → guest queue full ({} messages, {} bytes; bounds {} / {}): dropping a {}-byte write"
                    + " ({} dropped so far)", name, writeQueue.size(), queuedWriteBytes, maxQueuedWrites,
                    maxQueuedWriteBytes, n, droppedWrites);
            data.release();
            runDone(done);
            return false;
        }
        writeQueue.add(new Write(data, done));
        queuedWriteBytes += n;
        drainWrites();
        return true;
    }

    private void runDone(Runnable done) {
        if (done != null) {
            safely("write completion", done);
        }
    }

    private void drainWrites() {
        while (writable && portOpen && !writeQueue.isEmpty()) {
            Write next = writeQueue.poll();
            int n = next.data().readableBytes();
            queuedWriteBytes -= n;
            if (transport.write(next.data())) {
                bytesOut += n;
            } else {
                droppedWrites++;
                log.debug("{}: transport refused a {}-byte write (guest gone)", name, n);
            }
            runDone(next.done());
        }
        if (disablePending && writeQueue.isEmpty()) {
            disablePending = false;
            if (portOpen && errorReason != null) {
                log.info("{}: disabling the port after a protocol error", name);
                transport.disconnectGuest();
            }
        }
    }

    private void resetBase() {
        resets++;
        Write w;
        int dropped = 0;
        while ((w = writeQueue.poll()) != null) {
            w.data().release();
            runDone(w.done());
            dropped++;
        }
        queuedWriteBytes = 0;
        if (dropped > 0) {
            log.debug("{}: reset dropped {} queued host → guest writes", name, dropped);
        }
        if (errorReason != null) {
            log.info("{}: error state cleared by port reset", name);
        }
        errorReason = null;
        disablePending = false;
        applyPause();
    }

    // ---- back-pressure ----

    /**
     * Adds a reason to stop reading from the guest; reading stays paused while any reason remains. Reasons are
     * compared with {@code equals}; adding one twice has no extra effect.
     */
    public final void pauseReading(Object reason) {
        Objects.requireNonNull(reason, "reason");
        if (!executor.inEventLoop()) {
            executor.execute(() -> pauseReading(reason));
            return;
        }
        if (pauseReasons.add(reason)) {
            log.debug("{}: pause reading: {}", name, reason);
            applyPause();
        }
    }

    /** Removes a reason added by {@link #pauseReading}; reading resumes when none is left. */
    public final void resumeReading(Object reason) {
        Objects.requireNonNull(reason, "reason");
        if (!executor.inEventLoop()) {
            executor.execute(() -> resumeReading(reason));
            return;
        }
        if (pauseReasons.remove(reason)) {
            log.debug("{}: resume reading: {}", name, reason);
            applyPause();
        }
    }

    private void applyPause() {
        // In the error state guest bytes are read and discarded whatever the reasons (B10).
        boolean pause = !pauseReasons.isEmpty() && errorReason == null;
        if (pause != transportPaused) {
            transportPaused = pause;
            transport.setReadingPaused(pause);
        }
    }

    // ---- error state (B10) ----

    /**
     * Enters the error state after a protocol violation (B10): every further guest byte is read and discarded
     * until the port is closed or reopened, and the port is then disabled — the guest connection is dropped once
     * the host → guest writes queued so far (such as NOTIFY_ERROR) are flushed. Must be called on the executor.
     */
    protected final void enterErrorState(String why) {
        if (errorReason != null) {
            return;
        }
        errors++;
        errorReason = why;
        log.warn("{}: protocol error, discarding guest data until the port is reopened: {}", name, why);
        applyPause();
        // The reference disables the port from a 0 ms timer, after the current read was discarded.
        executor.execute(() -> {
            if (portOpen && errorReason != null) {
                disablePending = true;
                drainWrites();
            }
        });
    }

    /** Whether the device is in the error state. */
    public final boolean isInErrorState() {
        return errorReason != null;
    }

    // ---- accessors ----

    /** The device name. */
    public final String name() {
        return name;
    }

    /** The transport's executor, to which this device is confined. */
    public final EventExecutor executor() {
        return executor;
    }

    /** The transport. */
    protected final GuestTransport transport() {
        return transport;
    }

    /** Whether the guest has the port open. */
    public final boolean isPortOpen() {
        return portOpen;
    }

    /** Whether reading from the guest is currently paused by at least one reason. */
    public final boolean isReadingPaused() {
        return !pauseReasons.isEmpty();
    }

    /** A copy of the current pause reasons. */
    public final Set<Object> pauseReasons() {
        return Set.copyOf(pauseReasons);
    }

    /** Messages waiting in the host → guest queue (not yet handed to the transport). */
    public final int queuedWrites() {
        return writeQueue.size();
    }

    /** Guest bytes received, discarded ones included. */
    public final long bytesIn() {
        return bytesIn;
    }

    /** Guest bytes discarded (error state or port closed). */
    public final long bytesDiscarded() {
        return bytesDiscarded;
    }

    /** Host → guest bytes handed to the transport. */
    public final long bytesOut() {
        return bytesOut;
    }

    /** Resets done (one per port open and one per port close). */
    public final long resets() {
        return resets;
    }

    /** Times the error state was entered. */
    public final long errors() {
        return errors;
    }

    /** Host → guest writes dropped because the queue was full or the transport refused them. */
    public final long droppedWrites() {
        return droppedWrites;
    }

    private void safely(String hook, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.error("{}: {} failed", name, hook, e);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + "]";
    }
}
