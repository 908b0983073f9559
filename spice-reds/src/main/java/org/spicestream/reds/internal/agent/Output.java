package org.spicestream.reds.internal.agent;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.agent.VdAgent;

/**
 * One agent message stream towards the guest agent or towards one client. Pieces of one message are never
 * interleaved with pieces of another message on the same VDI port (spice-vdagentd and spice-gtk reassemble a single
 * stream): the source whose message is in progress holds the stream, the others wait at message boundaries and take
 * turns. Pieces for the server port ({@link VdAgent#PORT_SERVER}) are single-piece messages of their own and may go
 * between. If a source goes away in the middle of a message, the message is completed with zero bytes so that the
 * receiver stays in step. Confined to the router's executor.
 */
public final class Output {
    private static final Logger LOG = LoggerFactory.getLogger(Output.class);

    /** Zeros to complete a message whose source went away. */
    private static final ByteBuf ZEROS = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[VdAgent.MAX_DATA_SIZE]).asReadOnly());

    /** Where the output writes: the guest agent port or a client's main channel. */
    public interface Sink {
        /** Whether one more piece may be written now. */
        boolean ready();

        /** Writes the bytes (ownership passes) and calls {@code done} when they left (at once or later). */
        void write(int vdiPort, ByteBuf data, Runnable done);
    }

    /** A piece queued on this output, with this output's duplicate of the bytes. */
    record Entry(Piece piece, ByteBuf data) {}

    /** Stands for a source that went away in the middle of a message. */
    private static final Source PADDING = new Source() {
        @Override
        public void pieceDone(Piece piece) {}

        @Override
        public String describe() {
            return "padding";
        }
    };

    private final String name;
    private final Sink sink;
    private final Map<Source, ArrayDeque<Entry>> queues = new HashMap<>();
    private final ArrayDeque<Source> turns = new ArrayDeque<>();
    private final ArrayDeque<Entry> serverPort = new ArrayDeque<>();
    private Source holder;
    private long holderRemaining;
    private long queuedBytes;
    private int queuedEntries;
    private long padded;
    private boolean closed;

    public Output(String name, Sink sink) {
        this.name = name;
        this.sink = sink;
    }

    void offer(Entry e) {
        if (closed) {
            drop(e);
            return;
        }
        queuedBytes += e.data().readableBytes();
        queuedEntries++;
        if (e.piece().vdiPort == VdAgent.PORT_SERVER) {
            serverPort.add(e);
        } else {
            ArrayDeque<Entry> q = queues.computeIfAbsent(e.piece().source, s -> new ArrayDeque<>());
            if (q.isEmpty() && e.piece().source != holder) {
                turns.add(e.piece().source);
            }
            q.add(e);
        }
        pump();
    }

    /** Writes while the sink is ready. Call when the sink became ready again. */
    public void pump() {
        while (!closed && hasQueued() && sink.ready()) {
            Entry e = serverPort.poll();
            if (e == null) {
                e = next();
            }
            if (e == null) {
                return;
            }
            if (e.piece().source != PADDING) {
                unqueued(e); // padding is made here, never queued
            }
            Piece p = e.piece();
            sink.write(p.vdiPort, e.data(), p::outputDone);
        }
    }

    private Entry next() {
        if (holder == PADDING) {
            int n = (int) Math.min(VdAgent.MAX_DATA_SIZE, holderRemaining);
            holderRemaining -= n;
            padded += n;
            if (holderRemaining == 0) {
                holder = null;
            }
            return new Entry(Piece.padding(PADDING, holderRemaining), ZEROS.slice(0, n));
        }
        if (holder == null) {
            while (true) {
                Source s = turns.poll();
                if (s == null) {
                    return null;
                }
                ArrayDeque<Entry> q = queues.get(s);
                if (q == null || q.isEmpty()) {
                    continue;
                }
                if (!q.peek().piece().first) {
                    // cannot happen while sources route whole messages; never write a message's tail on its own
                    LOG.warn("{}: dropping pieces of {} that do not start a message", name, s.describe());
                    dropUntilFirst(q);
                    if (q.isEmpty()) {
                        continue;
                    }
                }
                holder = s;
                break;
            }
        }
        ArrayDeque<Entry> q = queues.get(holder);
        Entry e = q == null ? null : q.poll();
        if (e == null) {
            return null; // the holder's next piece has not arrived yet
        }
        holderRemaining = e.piece().remainingAfter;
        if (e.piece().last) {
            Source done = holder;
            holder = null;
            if (!q.isEmpty()) {
                turns.add(done);
            }
        }
        return e;
    }

    private void dropUntilFirst(ArrayDeque<Entry> q) {
        while (!q.isEmpty() && !q.peek().piece().first) {
            Entry e = q.poll();
            unqueued(e);
            drop(e);
        }
    }

    /**
     * A source went away: its queued pieces are dropped, and a message of it that is half written is completed with
     * zero bytes.
     */
    public void sourceGone(Source s) {
        ArrayDeque<Entry> q = queues.remove(s);
        if (q != null) {
            for (Entry e : q) {
                unqueued(e);
                drop(e);
            }
        }
        turns.remove(s);
        if (holder == s) {
            if (holderRemaining > 0 && !closed) {
                LOG.info("{}: {} went away {} bytes before the end of its message; completing it with zeros", name,
                        s.describe(), holderRemaining);
                holder = PADDING;
            } else {
                holder = null;
            }
        }
        pump();
    }

    /** Drops everything queued and starts again at a message boundary (the receiver reset its reassembly). */
    public void reset() {
        for (ArrayDeque<Entry> q : queues.values()) {
            q.forEach(Output::drop);
        }
        queues.clear();
        turns.clear();
        serverPort.forEach(Output::drop);
        serverPort.clear();
        holder = null;
        holderRemaining = 0;
        queuedBytes = 0;
        queuedEntries = 0;
    }

    /** Closes for good: queued and future pieces are dropped. */
    public void close() {
        reset();
        closed = true;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Bytes queued and not yet written. */
    public long queuedBytes() {
        return queuedBytes;
    }

    /** Whether pieces (or zero padding) are waiting. */
    public boolean hasQueued() {
        return queuedEntries > 0 || holder == PADDING;
    }

    private void unqueued(Entry e) {
        queuedBytes -= e.data().readableBytes();
        queuedEntries--;
    }

    /** Zero bytes written to complete messages whose source went away. */
    public long paddedBytes() {
        return padded;
    }

    public String name() {
        return name;
    }

    private static void drop(Entry e) {
        ReferenceCountUtil.release(e.data());
        e.piece().outputDone();
    }

    @Override
    public String toString() {
        return name;
    }
}
