package org.spicestream.reds.agent;

/** A guest agent or a client broke the agent protocol (framing, sizes, tokens); the message says how. */
public final class AgentProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public AgentProtocolException(String message) {
        super(message);
    }
}
