package org.spicestream.reds;

/**
 * Receives decoded input events from inputs channels (B60). Called on the event loop of the inputs
 * connection; implementations must be thread-safe when several clients are connected.
 *
 * <p>Key codes are PC/XT scan code set 1 make codes without the release bit; extended keys carry
 * their prefix in the high byte (right Ctrl = {@code 0xE01D}).
 */
public interface InputSink {

    /** A key went down. */
    void keyPressed(int scancode);

    /** A key went up. */
    void keyReleased(int scancode);

    /** Relative mouse motion (SERVER mouse mode); {@code buttons} is the button mask. */
    void mouseMotion(int dx, int dy, int buttons);

    /** Absolute mouse position (CLIENT mouse mode) on display channel {@code displayId}. */
    void mousePosition(int x, int y, int buttons, int displayId);

    /** Mouse button {@code button} (1 LEFT … 7 EXTRA) pressed; {@code buttons} is the new mask. */
    void mousePress(int button, int buttons);

    /** Mouse button released. */
    void mouseRelease(int button, int buttons);

    /** The client's lock-key state (KEY_MODIFIERS, flags of {@link SpiceMessages#KEY_MODIFIER_NUM_LOCK} etc.). */
    default void keyModifiers(int modifiers) {}

    /** Keyboard LED state reported to clients in INPUTS_INIT. */
    default int keyboardModifiers() {
        return 0;
    }

    /**
     * An inputs client went away: after {@link #keyReleased} was called for every key it still held,
     * the sink may release anything else (mouse buttons).
     */
    default void releaseAll() {}

    /** The default sink: logs every event at debug level. */
    static InputSink logging() {
        return LoggingInputSink.INSTANCE;
    }
}
