package org.spicestream.reds.internal.agent;

/**
 * The client → agent token window of one main-channel client (AGENT_DATA credit). The client may send one AGENT_DATA
 * per token; the server returns tokens with AGENT_TOKEN as the pieces are written to the agent (or dropped) in
 * batches of {@code returnBatch}.
 *
 * <p>AGENT_CONNECTED_TOKENS makes the client set its count to the window, and the client answers it with AGENT_START:
 * the server resets its own count at that AGENT_START, and returns no tokens from sending AGENT_CONNECTED_TOKENS until
 * the matching AGENT_START has arrived (a token sent in between would be added to the fresh window by the client but
 * not by the server). Thread-safe: the client's event loop takes tokens, the router returns them.
 */
public final class ClientTokens {
    private final int window;
    private final int returnBatch;
    private long available;
    private int freed;
    private int awaitingStart;

    public ClientTokens(int window, int returnBatch) {
        this.window = window;
        this.returnBatch = returnBatch;
        this.available = window;
    }

    /** Takes one token for an AGENT_DATA; false when the client has none left (it broke the flow control). */
    public synchronized boolean take() {
        if (available <= 0) {
            return false;
        }
        available--;
        return true;
    }

    /** AGENT_CONNECTED_TOKENS is being sent: hold returns until the client's AGENT_START. */
    public synchronized void connectedTokensSent() {
        awaitingStart++;
    }

    /**
     * An AGENT_START arrived. With {@code resets} (the client has the AGENT_CONNECTED_TOKENS capability) the window is
     * full again. Returns whether this AGENT_START answers the latest announcement of the agent (no other
     * AGENT_CONNECTED_TOKENS is still unanswered).
     */
    public synchronized boolean start(boolean resets) {
        if (awaitingStart > 0) {
            awaitingStart--;
        }
        if (resets) {
            available = window;
            freed = 0;
        }
        return awaitingStart == 0;
    }

    /**
     * {@code n} pieces of this client left the server. Returns the number of tokens to send back in an AGENT_TOKEN
     * now (0: none yet).
     */
    public synchronized int free(int n) {
        if (awaitingStart > 0) {
            return 0; // the client forgets them anyway when it takes the new window
        }
        freed += n;
        if (freed < returnBatch) {
            return 0;
        }
        int r = freed;
        freed = 0;
        available += r;
        return r;
    }

    /** Tokens the client may still use, as the server counts them. */
    public synchronized long available() {
        return available;
    }
}
