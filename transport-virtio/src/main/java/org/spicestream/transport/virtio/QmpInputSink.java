package org.spicestream.transport.virtio;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestInputSink;

/**
 * Injects SPICE clients' keyboard and mouse into a QEMU VM with QMP {@code input-send-event}: keys as QEMU key
 * numbers (scan code set 1, extended keys with bit 7 set) or qcodes, buttons, relative motion, and absolute
 * motion scaled to QEMU's 0…{@value #ABS_MAX} range from the display's size ({@link #setDisplaySize}).
 *
 * <p>Absolute motion only moves the pointer when the VM has an absolute pointing device (usb-tablet,
 * virtio-tablet); relative motion needs a mouse (the PC's PS/2 mouse). Events are fire-and-forget: when QMP is
 * not connected or QEMU refuses one, it is dropped, counted ({@link #failedEvents()}) and logged (a warning at most
 * every {@link #FAILURE_LOG_INTERVAL}). Thread-safe: inputs channels call it from their event loops.
 */
public final class QmpInputSink implements GuestInputSink {

    /** QEMU's absolute axis range is 0…ABS_MAX ({@code INPUT_EVENT_ABS_MAX}). */
    public static final int ABS_MAX = 0x7fff;

    /** Display width assumed for absolute motion until {@link #setDisplaySize} is called. */
    public static final int DEFAULT_DISPLAY_WIDTH = 1024;

    /** Display height assumed for absolute motion until {@link #setDisplaySize} is called. */
    public static final int DEFAULT_DISPLAY_HEIGHT = 768;

    /** Largest display id whose size is kept (SPICE display channel ids are small). */
    public static final int MAX_DISPLAY_ID = 15;

    /** Largest display dimension accepted, in pixels. */
    public static final int MAX_DISPLAY_DIMENSION = 16384;

    /** Shortest interval between two warnings about dropped input events. */
    public static final Duration FAILURE_LOG_INTERVAL = Duration.ofSeconds(10);

    /** The QMP command used. */
    public static final String COMMAND = "input-send-event";

    /** QEMU's InputButton names, indexed by SPICE button id (1 LEFT … 7 EXTRA). */
    private static final String[] BUTTONS = {null, "left", "middle", "right", "wheel-up", "wheel-down", "side", "extra"};

    private static final Logger log = LoggerFactory.getLogger(QmpInputSink.class);

    private record Size(int width, int height) {}

    private final QmpConnection qmp;
    private final String name;
    private final Map<Integer, Size> displays = new ConcurrentHashMap<>();
    private final Map<Integer, Boolean> heldButtons = new ConcurrentHashMap<>();
    private final AtomicLong sentEvents = new AtomicLong();
    private final AtomicLong failedEvents = new AtomicLong();
    private final AtomicLong lastFailureLog = new AtomicLong(System.nanoTime() - FAILURE_LOG_INTERVAL.toNanos());

    /**
     * @param qmp the VM's QMP connection (shared with the virtio transport; see {@link
     *     VirtioGuestTransport#inputSink()})
     * @param name the device or VM name for log lines
     */
    public QmpInputSink(QmpConnection qmp, String name) {
        this.qmp = Objects.requireNonNull(qmp, "qmp");
        this.name = Objects.requireNonNull(name, "name");
    }

    /** The size of display {@code displayId}, used to scale absolute positions (e.g. from the stream's FORMAT). */
    public void setDisplaySize(int displayId, int width, int height) {
        if (displayId < 0 || displayId > MAX_DISPLAY_ID) {
            throw new IllegalArgumentException("display id " + displayId + " outside 0…" + MAX_DISPLAY_ID);
        }
        if (width < 1 || height < 1 || width > MAX_DISPLAY_DIMENSION || height > MAX_DISPLAY_DIMENSION) {
            throw new IllegalArgumentException("display size " + width + "x" + height + " outside 1…"
                    + MAX_DISPLAY_DIMENSION);
        }
        displays.put(displayId, new Size(width, height));
    }

    // ---- InputSink ----

    @Override
    public void keyPressed(int scancode) {
        key(scancode, true);
    }

    @Override
    public void keyReleased(int scancode) {
        key(scancode, false);
    }

    @Override
    public void mouseMotion(int dx, int dy, int buttons) {
        if (dx == 0 && dy == 0) {
            return;
        }
        send(List.of(axis("rel", "x", dx), axis("rel", "y", dy)));
    }

    @Override
    public void mousePosition(int x, int y, int buttons, int displayId) {
        Size size = displays.getOrDefault(displayId, new Size(DEFAULT_DISPLAY_WIDTH, DEFAULT_DISPLAY_HEIGHT));
        send(List.of(axis("abs", "x", scale(x, size.width())), axis("abs", "y", scale(y, size.height()))));
    }

    @Override
    public void mousePress(int button, int buttons) {
        button(button, true);
    }

    @Override
    public void mouseRelease(int button, int buttons) {
        button(button, false);
    }

    @Override
    public void releaseAll() {
        for (Integer b : List.copyOf(heldButtons.keySet())) {
            button(b, false);
        }
    }

    // ---- more than InputSink ----

    /** Presses ({@code down}) or releases a key given as a QEMU qcode ({@code "a"}, {@code "ctrl"}, {@code "ret"}). */
    public CompletableFuture<Object> qcode(String qcode, boolean down) {
        Objects.requireNonNull(qcode, "qcode");
        return send(List.of(keyEvent(keyValue("qcode", qcode), down)));
    }

    /**
     * The QEMU key number of a SPICE scan code (set 1 make code; extended keys {@code 0xE0xx}), or -1 when QEMU has
     * none (such as the {@code 0xE1} Pause sequence).
     */
    public static int qemuKeyNumber(int scancode) {
        if (scancode > 0 && scancode < 0x80) {
            return scancode;
        }
        if ((scancode & 0xFF00) == 0xE000 && (scancode & 0x7F) != 0 && (scancode & 0x80) == 0) {
            return 0x80 | (scancode & 0x7F);
        }
        return -1;
    }

    /** Input events sent to QEMU (each {@code input-send-event} counts once). */
    public long sentEvents() {
        return sentEvents.get();
    }

    /** Input events dropped: QMP not connected, unknown key or button, or refused by QEMU. */
    public long failedEvents() {
        return failedEvents.get();
    }

    // ---- building events ----

    private void key(int scancode, boolean down) {
        int number = qemuKeyNumber(scancode);
        if (number < 0) {
            dropped("scan code 0x" + Integer.toHexString(scancode) + " has no QEMU key number", null);
            return;
        }
        send(List.of(keyEvent(keyValue("number", number), down)));
    }

    private void button(int button, boolean down) {
        if (button < 1 || button >= BUTTONS.length) {
            dropped("SPICE mouse button " + button + " has no QEMU equivalent", null);
            return;
        }
        if (down) {
            heldButtons.put(button, Boolean.TRUE);
        } else {
            heldButtons.remove(button);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("down", down);
        data.put("button", BUTTONS[button]);
        send(List.of(event("btn", data)));
    }

    private static Map<String, Object> keyValue(String type, Object value) {
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("type", type);
        key.put("data", value);
        return key;
    }

    private static Map<String, Object> keyEvent(Map<String, Object> key, boolean down) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("down", down);
        data.put("key", key);
        return event("key", data);
    }

    private static Map<String, Object> axis(String type, String axis, int value) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("axis", axis);
        data.put("value", value);
        return event(type, data);
    }

    private static Map<String, Object> event(String type, Map<String, Object> data) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", type);
        e.put("data", data);
        return e;
    }

    /** Maps 0…size-1 onto 0…ABS_MAX, clamping positions outside the display. */
    static int scale(int position, int size) {
        if (size <= 1) {
            return 0;
        }
        long clamped = Math.max(0, Math.min(position, size - 1));
        return (int) (clamped * ABS_MAX / (size - 1));
    }

    private CompletableFuture<Object> send(List<Map<String, Object>> events) {
        CompletableFuture<Object> result = qmp.execute(COMMAND, Map.of("events", new ArrayList<>(events)));
        result.whenComplete((r, e) -> {
            if (e == null) {
                sentEvents.incrementAndGet();
            } else {
                dropped("QMP " + COMMAND + " failed", e.getCause() != null ? e.getCause() : e);
            }
        });
        return result;
    }

    private void dropped(String why, Throwable cause) {
        long n = failedEvents.incrementAndGet();
        long now = System.nanoTime();
        long last = lastFailureLog.get();
        if (now - last >= FAILURE_LOG_INTERVAL.toNanos() && lastFailureLog.compareAndSet(last, now)) {
            log.warn("{}: dropping input for the VM: {}{} ({} dropped so far)", name, why,
                    cause == null ? "" : ": " + cause.getMessage(), n);
        } else {
            log.debug("{}: dropping input for the VM: {}", name, why);
        }
    }
}
