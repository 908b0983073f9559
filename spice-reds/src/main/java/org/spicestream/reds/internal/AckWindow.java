package org.spicestream.reds.internal;

/**
 * The server side of SPICE's ACK window (spice-wire §5: SET_ACK, ACK_SYNC, ACK): counts messages written since
 * the client's last ACK and closes the gate when more than {@code maxUnacked} wait for one. An ACK counts only in
 * the generation the client confirmed with ACK_SYNC, and acknowledges {@code window} messages. Event-loop confined.
 */
public final class AckWindow {

    /** What {@link #ack} returns for an ACK that does not count (window off, or of an older generation). */
    public static final int IGNORED = -1;

    private final boolean enabled;
    private final int window;
    private final int maxUnacked;
    private int generation;
    private int clientGeneration = -1;
    private int unacked;

    /**
     * @param enabled false for channels without the window: nothing is counted and the gate stays open
     * @param window the window announced in SET_ACK: messages one ACK acknowledges
     * @param maxUnacked messages written without an ACK beyond which the gate closes
     */
    public AckWindow(boolean enabled, int window, int maxUnacked) {
        if (window < 1 || maxUnacked < 0) {
            throw new IllegalArgumentException("window " + window + ", maxUnacked " + maxUnacked);
        }
        this.enabled = enabled;
        this.window = window;
        this.maxUnacked = maxUnacked;
    }

    public boolean enabled() {
        return enabled;
    }

    /** The window announced in SET_ACK. */
    public int window() {
        return window;
    }

    /** Starts a new generation, the one to announce in the next SET_ACK. */
    public int nextGeneration() {
        return ++generation;
    }

    /** The client's ACK_SYNC: from now on its ACKs belong to {@code clientGen}. */
    public void sync(int clientGen) {
        clientGeneration = clientGen;
    }

    /** A message was written to the client. */
    public void written() {
        if (enabled) {
            unacked++;
        }
    }

    /** True while writing must wait for an ACK. */
    public boolean blocked() {
        return enabled && unacked > maxUnacked;
    }

    /** Messages written and not yet acknowledged. */
    public int unacked() {
        return unacked;
    }

    /**
     * The client's ACK: returns how many written messages it acknowledged (0 when none was waiting, which is no
     * progress), or {@link #IGNORED}.
     */
    public int ack() {
        if (!enabled || clientGeneration != generation) {
            return IGNORED;
        }
        int before = unacked;
        unacked = Math.max(0, unacked - window);
        return before - unacked;
    }
}
