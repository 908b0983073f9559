package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.function.Consumer;

/**
 * Incremental framing shared by both directions: validates each 8-byte header before buffering any payload
 * byte, collects the payload without copying large pieces, and stays failed after a violation until reset.
 */
abstract sealed class FrameParser<M extends StreamMessage> permits GuestStreamParser, HostStreamParser {

    /** Pieces at least this long are kept as retained slices of the input; shorter ones are copied. */
    static final int MIN_SLICE_BYTES = 4096;
    /** Capacity of the buffers that gather short pieces. */
    static final int GATHER_CHUNK_BYTES = 64 * 1024;
    /**
     * A piece is kept as a slice only if its read buffer is at most this many times its length: a retained slice
     * keeps the whole buffer alive, so a guest that sends a little into big reads must not make queued frames pin
     * many times their size. Shorter pieces are copied.
     */
    static final int MAX_PIN_FACTOR = 4;

    private final byte[] header = new byte[StreamLimits.HEADER_SIZE];
    private int headerFill;
    private int type;
    private int size;
    private int remaining;
    private long arrivalNanos;
    private boolean inPayload;
    private CompositeByteBuf collected;
    private ByteBuf gather;
    private StreamProtocolException failure;

    /**
     * Consumes every readable byte of {@code in} (the caller keeps ownership of {@code in}) and hands each
     * complete message to {@code out}. Reference-counted messages passed to {@code out} belong to it.
     *
     * @throws StreamProtocolException on the first violation; afterwards input is discarded until {@link #reset()}
     */
    public final void parse(ByteBuf in, Consumer<? super M> out) {
        if (failure != null) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            while (in.isReadable()) {
                if (!inPayload) {
                    int n = Math.min(StreamLimits.HEADER_SIZE - headerFill, in.readableBytes());
                    in.readBytes(header, headerFill, n);
                    headerFill += n;
                    if (headerFill < StreamLimits.HEADER_SIZE) {
                        return;
                    }
                    headerFill = 0;
                    startPayload();
                    if (remaining == 0) {
                        complete(Unpooled.EMPTY_BUFFER, out);
                    }
                    continue;
                }
                int n = Math.min(remaining, in.readableBytes());
                if (n == size && collected == null && gather == null && sliceable(in, n)) {
                    // The whole payload is in this read: hand on a slice, no copy.
                    remaining = 0;
                    complete(in.readRetainedSlice(n), out);
                    continue;
                }
                addPiece(in, n);
                remaining -= n;
                if (remaining == 0) {
                    complete(takeCollected(), out);
                }
            }
        } catch (StreamProtocolException e) {
            fail(e);
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** Forgets any partial message and leaves the failed state (the guest reopened the port). */
    public final void reset() {
        releaseCollected();
        headerFill = 0;
        inPayload = false;
        remaining = 0;
        failure = null;
    }

    /** The violation that stopped this parser, or {@code null}. */
    public final StreamProtocolException failure() {
        return failure;
    }

    /** Payload bytes held for the message being read; never more than that message's limit. */
    public final int bufferedBytes() {
        return inPayload ? size - remaining : 0;
    }

    /**
     * Payload bytes announced by the header of the message being read and not yet received; 0 between messages.
     * What the next read may usefully take.
     */
    public final int pendingBytes() {
        return inPayload ? remaining : 0;
    }

    /** Whether a message is partly read (a peer closing now would cut it). */
    public final boolean hasPartialMessage() {
        return headerFill > 0 || inPayload;
    }

    /** Throws if a header of this type and size must not be read further. */
    abstract void validateHeader(int version, int type, long size);

    /** Decodes a complete payload; owns {@code payload}. Returns {@code null} for a message to drop. */
    abstract M decode(int type, ByteBuf payload, long arrivalNanos);

    private void startPayload() {
        int version = header[0] & 0xff;
        int t = (header[2] & 0xff) | (header[3] & 0xff) << 8;
        long s = (header[4] & 0xffL) | (header[5] & 0xffL) << 8 | (header[6] & 0xffL) << 16
                | (header[7] & 0xffL) << 24;
        validateHeader(version, t, s);
        type = t;
        size = (int) s; // validateHeader bounds every type well below 2^31
        remaining = size;
        arrivalNanos = System.nanoTime();
        inPayload = true;
    }

    private void addPiece(ByteBuf in, int n) {
        if (n >= MIN_SLICE_BYTES && sliceable(in, n)) {
            flushGather(in);
            collected(in).addComponent(true, in.readRetainedSlice(n));
            return;
        }
        if (gather != null && gather.writableBytes() < n) {
            flushGather(in);
        }
        if (gather == null) {
            gather = in.alloc().buffer(Math.max(n, Math.min(remaining, GATHER_CHUNK_BYTES)));
        }
        gather.writeBytes(in, n);
    }

    /** Whether {@code n} bytes of {@code in} may be kept as a slice ({@link #MAX_PIN_FACTOR}). */
    private static boolean sliceable(ByteBuf in, int n) {
        ByteBuf root = in;
        for (ByteBuf u = root.unwrap(); u != null; u = u.unwrap()) {
            root = u;
        }
        return (long) n * MAX_PIN_FACTOR >= root.capacity();
    }

    private CompositeByteBuf collected(ByteBuf in) {
        if (collected == null) {
            // No consolidation: pieces are >= MIN_SLICE_BYTES or gathered, so the count is bounded by size/4 KiB.
            collected = in.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        return collected;
    }

    private void flushGather(ByteBuf in) {
        if (gather != null) {
            collected(in).addComponent(true, gather);
            gather = null;
        }
    }

    private ByteBuf takeCollected() {
        ByteBuf payload;
        if (collected == null) {
            payload = gather;
        } else {
            if (gather != null) {
                collected.addComponent(true, gather);
            }
            payload = collected;
        }
        collected = null;
        gather = null;
        return payload;
    }

    private void complete(ByteBuf payload, Consumer<? super M> out) {
        inPayload = false;
        M message;
        try {
            message = decode(type, payload, arrivalNanos);
        } catch (RuntimeException e) {
            throw e instanceof StreamProtocolException p ? p
                    : new StreamProtocolException(StreamProtocolException.PROTOCOL_ERROR, e.getMessage());
        }
        if (message != null) {
            out.accept(message);
        }
    }

    private void fail(StreamProtocolException e) {
        failure = e;
        releaseCollected();
        inPayload = false;
        headerFill = 0;
    }

    private void releaseCollected() {
        if (collected != null) {
            collected.release();
            collected = null;
        }
        if (gather != null) {
            gather.release();
            gather = null;
        }
    }
}
