package org.spicestream.reds.agent;

/**
 * How the server relays the guest agent.
 *
 * @param copyPaste relay the clipboard (off: clipboard messages are dropped both ways and the clipboard capabilities
 *     are removed from what each side is told about the other, as the reference's disable-copy-paste does)
 * @param maxMessageBytes largest agent message (the header's size field) accepted from a client or the guest agent;
 *     a larger one is a protocol violation of its sender
 */
public record AgentConfig(boolean copyPaste, long maxMessageBytes) {

    /**
     * Default largest agent message: 128 MiB, above spice-gtk's default clipboard limit (max-clipboard, 100 MiB),
     * which the guest agent also respects, so that no real clipboard transfer reaches it; it keeps a peer from making
     * the other side allocate up to 4 GiB for one message header.
     */
    public static final long DEFAULT_MAX_MESSAGE_BYTES = 128L * 1024 * 1024;

    /** Largest value {@link #maxMessageBytes} may take (the header's size field is a u32). */
    public static final long MAX_MESSAGE_BYTES_LIMIT = 0xFFFFFFFFL;

    /** Clipboard on, 128 MiB messages. */
    public static final AgentConfig DEFAULT = new AgentConfig(true, DEFAULT_MAX_MESSAGE_BYTES);

    public AgentConfig {
        if (maxMessageBytes < VdAgent.MAX_MONITORS_CONFIG_SIZE || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
            throw new IllegalArgumentException("maxMessageBytes must be between " + VdAgent.MAX_MONITORS_CONFIG_SIZE
                    + " and " + MAX_MESSAGE_BYTES_LIMIT + ", not " + maxMessageBytes);
        }
    }

    public AgentConfig withCopyPaste(boolean on) {
        return new AgentConfig(on, maxMessageBytes);
    }

    public AgentConfig withMaxMessageBytes(long bytes) {
        return new AgentConfig(copyPaste, bytes);
    }
}
