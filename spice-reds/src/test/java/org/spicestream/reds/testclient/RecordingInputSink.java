package org.spicestream.reds.testclient;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.spicestream.reds.InputSink;

/** An {@link InputSink} that records events as strings like "press 1e", "motion 5 -3 0", "position 100 200 1 0". */
public final class RecordingInputSink implements InputSink {
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final int modifiers;

    public RecordingInputSink() {
        this(0);
    }

    /** {@code modifiers}: the keyboard LED state reported in INPUTS_INIT. */
    public RecordingInputSink(int modifiers) {
        this.modifiers = modifiers;
    }

    /** Next event within {@code timeout}; AssertionError if none. */
    public String next(Duration timeout) {
        try {
            String e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new AssertionError("no input event within " + timeout);
            }
            return e;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    public String next() {
        return next(Duration.ofSeconds(10));
    }

    /** Skips events until one starts with {@code prefix}. */
    public String nextStartingWith(String prefix, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String e = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (e.startsWith(prefix)) {
                return e;
            }
        }
    }

    public BlockingQueue<String> events() {
        return events;
    }

    @Override
    public void keyPressed(int scancode) {
        events.add("press " + Integer.toHexString(scancode));
    }

    @Override
    public void keyReleased(int scancode) {
        events.add("release " + Integer.toHexString(scancode));
    }

    @Override
    public void mouseMotion(int dx, int dy, int buttons) {
        events.add("motion " + dx + " " + dy + " " + buttons);
    }

    @Override
    public void mousePosition(int x, int y, int buttons, int displayId) {
        events.add("position " + x + " " + y + " " + buttons + " " + displayId);
    }

    @Override
    public void mousePress(int button, int buttons) {
        events.add("mouse-press " + button + " " + buttons);
    }

    @Override
    public void mouseRelease(int button, int buttons) {
        events.add("mouse-release " + button + " " + buttons);
    }

    @Override
    public void keyModifiers(int mods) {
        events.add("modifiers " + mods);
    }

    @Override
    public int keyboardModifiers() {
        return modifiers;
    }

    @Override
    public void releaseAll() {
        events.add("release-all");
    }
}
