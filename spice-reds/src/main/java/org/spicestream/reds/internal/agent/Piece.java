package org.spicestream.reds.internal.agent;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import org.spicestream.reds.agent.VdAgent;

/**
 * One piece (at most {@code VD_AGENT_MAX_DATA_SIZE} bytes) of an agent message from one {@link Source}, handed to
 * one or more {@link Output}s, each of which gets its own duplicate of the bytes. The source learns through {@link
 * Source#pieceDone} when all of them are finished with it (that returns a client's token).
 */
public final class Piece {
    final Source source;
    final int vdiPort;
    final boolean first;
    final boolean last;
    final long remainingAfter;
    private final ByteBuf data;
    private final int size;
    private int outputs;
    private boolean distributed;

    /**
     * @param source where it comes from
     * @param vdiPort the VDI chunk port it goes to when written to the guest
     * @param data the bytes (owned by the piece until {@link #distribute} has run)
     * @param first whether it starts a message
     * @param remainingAfter bytes of its message that follow it (0: it ends the message)
     */
    public Piece(Source source, int vdiPort, ByteBuf data, boolean first, long remainingAfter) {
        this.source = source;
        this.vdiPort = vdiPort;
        this.data = data;
        this.size = data.readableBytes();
        this.first = first;
        this.last = remainingAfter == 0;
        this.remainingAfter = remainingAfter;
    }

    /** A piece of zero bytes written in place of a source that went away (no source to tell). */
    static Piece padding(Source padding, long remainingAfter) {
        Piece p = new Piece(padding, VdAgent.PORT_CLIENT, Unpooled.EMPTY_BUFFER, false, remainingAfter);
        p.distributed = true;
        p.outputs = 1;
        return p;
    }

    public int size() {
        return size;
    }

    public boolean first() {
        return first;
    }

    public boolean last() {
        return last;
    }

    public Source source() {
        return source;
    }

    /** Read-only view of the bytes (valid until distributed). */
    public ByteBuf content() {
        return data;
    }

    /**
     * Hands the piece to each output (a duplicate each) and releases the original; with no output the source is told
     * at once that the piece is done.
     */
    public void distribute(Iterable<Output> targets) {
        if (distributed) {
            throw new IllegalStateException("piece distributed twice");
        }
        distributed = true;
        outputs = 1; // held until every output was offered the piece, so that none can finish it early
        for (Output o : targets) {
            outputs++;
            o.offer(new Output.Entry(this, data.retainedDuplicate()));
        }
        ReferenceCountUtil.release(data);
        outputDone();
    }

    /** Drops the piece without an output. */
    public void discard() {
        distribute(java.util.List.of());
    }

    void outputDone() {
        if (--outputs == 0) {
            source.pieceDone(this);
        }
    }
}
