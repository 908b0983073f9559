package org.spicestream.reds.agent;

import io.netty.buffer.ByteBuf;

/**
 * Follows agent messages across the pieces they are cut into (AGENT_DATA bodies, or VDI chunk payloads) and checks
 * the rules spice-vdagentd and the reference server enforce: a piece is at most {@link VdAgent#MAX_DATA_SIZE} bytes,
 * a piece that starts a message holds the whole 20-byte header with protocol 1, a piece never runs past the end of
 * its message, and no message is larger than the configured bound. One framer per direction and peer; not
 * thread-safe.
 */
public final class AgentMessageFramer {

    /** Where a piece lies in the message stream. */
    public record Framing(boolean first, boolean last, int type, long messageSize) {}

    private final String peer;
    private final long maxMessageBytes;
    private long remaining;
    private int type;
    private long size;

    /**
     * @param peer who sends the pieces, for error texts ("client", "guest agent")
     * @param maxMessageBytes largest message body accepted (the header's size field)
     */
    public AgentMessageFramer(String peer, long maxMessageBytes) {
        if (maxMessageBytes < 0 || maxMessageBytes > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("maxMessageBytes out of range: " + maxMessageBytes);
        }
        this.peer = peer;
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * Accounts for one piece (its readable bytes; nothing is consumed) and says where it lies.
     *
     * @throws AgentProtocolException when the piece breaks a rule; the framer is then out of step and must be reset
     */
    public Framing next(ByteBuf piece) {
        int n = piece.readableBytes();
        if (n > VdAgent.MAX_DATA_SIZE) {
            throw new AgentProtocolException(peer + " sent an agent data piece of " + n + " bytes; the limit is "
                    + VdAgent.MAX_DATA_SIZE + " (VD_AGENT_MAX_DATA_SIZE)");
        }
        if (remaining > 0) {
            if (n > remaining) {
                throw new AgentProtocolException(peer + " sent " + n + " bytes where its " + VdAgent.typeName(type)
                        + " message had only " + remaining + " left: a piece may not span two messages");
            }
            remaining -= n;
            return new Framing(false, remaining == 0, type, size);
        }
        if (n < VdAgent.MESSAGE_HEADER_SIZE) {
            throw new AgentProtocolException(peer + " started an agent message with a piece of " + n
                    + " bytes; it must hold the whole " + VdAgent.MESSAGE_HEADER_SIZE + "-byte header");
        }
        int r = piece.readerIndex();
        long protocol = piece.getUnsignedIntLE(r);
        if (protocol != VdAgent.PROTOCOL) {
            throw new AgentProtocolException(peer + " sent an agent message with protocol " + protocol + ", not "
                    + VdAgent.PROTOCOL);
        }
        long t = piece.getUnsignedIntLE(r + VdAgent.HEADER_TYPE_OFFSET);
        long s = piece.getUnsignedIntLE(r + VdAgent.HEADER_SIZE_OFFSET);
        if (s > maxMessageBytes) {
            throw new AgentProtocolException(peer + " announced a " + VdAgent.typeName(t) + " message of " + s
                    + " bytes; the limit is " + maxMessageBytes);
        }
        long data = n - VdAgent.MESSAGE_HEADER_SIZE;
        if (data > s) {
            throw new AgentProtocolException(peer + " sent a piece of " + n + " bytes for a " + VdAgent.typeName(t)
                    + " message of " + s + " bytes: a piece may not span two messages");
        }
        type = (int) Math.min(t, Integer.MAX_VALUE);
        size = s;
        remaining = s - data;
        return new Framing(true, remaining == 0, type, size);
    }

    /** Bytes of the current message still to come; 0 between messages. */
    public long remaining() {
        return remaining;
    }

    /** True between messages. */
    public boolean atBoundary() {
        return remaining == 0;
    }

    /** Forgets a message in progress (after a reset of the stream). */
    public void reset() {
        remaining = 0;
        type = 0;
        size = 0;
    }
}
