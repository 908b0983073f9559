package org.spicestream.device.spi;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A {@link GuestPortHandler} for tests: records events, counts and hashes received bytes, and records every
 * contract violation (callback off the executor, data while paused, data outside open/close).
 */
public final class RecordingPortHandler implements GuestPortHandler {

    /** Received bytes kept verbatim up to this many (16 MiB); beyond that only the count and hash grow. */
    public static final int KEEP_LIMIT = 16 * 1024 * 1024;

    private final GuestTransport transport;
    private final List<String> events = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private MessageDigest digest = newDigest();
    private long received;
    private long dataCalls;
    private int largestRead;
    private long announcedUntil;
    private boolean open;
    private boolean paused;
    private Boolean lastWritable;

    public RecordingPortHandler(GuestTransport transport) {
        this.transport = transport;
    }

    @Override
    public synchronized void portOpened() {
        checkExecutor("portOpened");
        if (open) {
            violations.add("portOpened while open");
        }
        open = true;
        events.add("open");
    }

    @Override
    public synchronized void dataReceived(ByteBuf data) {
        checkExecutor("dataReceived");
        if (!open) {
            violations.add("dataReceived while closed");
        }
        if (paused) {
            violations.add("dataReceived while paused (" + data.readableBytes() + " bytes)");
        }
        int n = data.readableBytes();
        byte[] bytes = new byte[n];
        data.getBytes(data.readerIndex(), bytes);
        digest.update(bytes);
        if (kept.size() + n <= KEEP_LIMIT) {
            kept.write(bytes, 0, n);
        }
        received += n;
        dataCalls++;
        largestRead = Math.max(largestRead, n);
    }

    /** Announces that {@code n} more bytes are coming: {@link #pendingBytes()} counts them down as they arrive. */
    public synchronized void announce(long n) {
        announcedUntil = received + n;
    }

    @Override
    public synchronized int pendingBytes() {
        checkExecutor("pendingBytes");
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, announcedUntil - received));
    }

    /** The largest single {@code dataReceived} so far. */
    public synchronized int largestRead() {
        return largestRead;
    }

    @Override
    public synchronized void portClosed() {
        checkExecutor("portClosed");
        if (!open) {
            violations.add("portClosed while closed");
        }
        open = false;
        events.add("close");
    }

    @Override
    public synchronized void writabilityChanged(boolean writable) {
        checkExecutor("writabilityChanged");
        lastWritable = writable;
    }

    /** Pauses the transport on its executor and records that data must not arrive from now on. */
    public void pause() throws Exception {
        transport.executor().submit(() -> {
            transport.setReadingPaused(true);
            synchronized (this) {
                paused = true;
            }
        }).get();
    }

    /** Resumes the transport on its executor. */
    public void resume() throws Exception {
        transport.executor().submit(() -> {
            synchronized (this) {
                paused = false;
            }
            transport.setReadingPaused(false);
        }).get();
    }

    private void checkExecutor(String what) {
        if (!transport.executor().inEventLoop()) {
            violations.add(what + " called on " + Thread.currentThread().getName() + ", not the executor");
        }
    }

    public synchronized List<String> events() {
        return List.copyOf(events);
    }

    public synchronized long openCount() {
        return events.stream().filter("open"::equals).count();
    }

    public synchronized long closeCount() {
        return events.stream().filter("close"::equals).count();
    }

    public synchronized boolean isOpen() {
        return open;
    }

    public synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    public synchronized long received() {
        return received;
    }

    public synchronized long dataCalls() {
        return dataCalls;
    }

    /** The bytes received so far (at most {@link #KEEP_LIMIT}). */
    public synchronized byte[] receivedBytes() {
        return kept.toByteArray();
    }

    /** SHA-256 of everything received so far, in hex. */
    public synchronized String receivedSha256() {
        try {
            return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    public synchronized Boolean lastWritable() {
        return lastWritable;
    }

    /** Forgets received bytes (not events). */
    public synchronized void clearData() {
        kept.reset();
        digest = newDigest();
        received = 0;
        dataCalls = 0;
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
