package org.spicestream.device.spi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import java.util.Objects;
import java.util.function.IntSupplier;
import org.spicestream.device.internal.ReadBufferPool;

/**
 * Sizes reads from the guest: adaptively between {@link TransportContext#MIN_READ_BUFFER_SIZE} and the context's
 * {@link TransportContext#readBufferSize()} as Netty's {@link AdaptiveRecvByteBufAllocator} does, and, while the port
 * handler knows that more of an announced message is coming ({@link GuestPortHandler#pendingBytes()}), as large as
 * that rest, up to {@link TransportContext#maxFrameReadSize()}: a frame arrives in fewer reads and event-loop wake-ups;
 * and while that rest is coming, a read that did not fill its buffer is followed by another read instead of a wait
 * for readiness (the guest is writing the frame now).
 * The buffers come from a {@link ReadBufferPool} of this allocator's own and return to it when the last frame sliced
 * from them is released: streaming reuses the same memory.
 */
public final class GuestReadAllocator implements RecvByteBufAllocator {

    /**
     * Most reads from the guest per readiness event (Netty's own default for stream channels). This allocator is not
     * one Netty configures, so without it a wake-up read once and then waited for readiness again (issue 14: an
     * {@code epoll_wait} per read in a system-call trace).
     */
    public static final int MAX_READS_PER_WAKEUP = 16;

    private final AdaptiveRecvByteBufAllocator adaptive;
    private final int maxHinted;
    private final IntSupplier pending;
    private final ReadBufferPool buffers;

    /**
     * @param ctx the read bounds
     * @param pending bytes known to be coming (called on the channel's event loop before each read)
     */
    public GuestReadAllocator(TransportContext ctx, IntSupplier pending) {
        this.adaptive = new AdaptiveRecvByteBufAllocator(TransportContext.MIN_READ_BUFFER_SIZE, ctx.readBufferSize(),
                ctx.readBufferSize());
        this.adaptive.maxMessagesPerRead(MAX_READS_PER_WAKEUP);
        this.maxHinted = Math.max(ctx.readBufferSize(), ctx.maxFrameReadSize());
        this.pending = Objects.requireNonNull(pending, "pending");
        this.buffers = new ReadBufferPool(ctx.readBufferSize(), maxHinted);
    }

    /** A read allocator that asks {@code port} how much is coming. */
    public static GuestReadAllocator forPort(TransportContext ctx, GuestPortHandler port) {
        return new GuestReadAllocator(ctx, port::pendingBytes);
    }

    @Override
    public Handle newHandle() {
        return new HintedHandle((ExtendedHandle) adaptive.newHandle());
    }

    /** The pool the reads' buffers come from (its counters). */
    ReadBufferPool buffers() {
        return buffers;
    }

    /** The size the next read would have without a hint and with {@code pendingBytes} announced. */
    int readSize(int adaptiveGuess, int pendingBytes) {
        return pendingBytes > adaptiveGuess ? Math.min(pendingBytes, maxHinted) : adaptiveGuess;
    }

    private final class HintedHandle extends DelegatingHandle implements ExtendedHandle {
        private final ExtendedHandle adaptiveHandle;

        HintedHandle(ExtendedHandle delegate) {
            super(delegate);
            this.adaptiveHandle = delegate;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return buffers.take(alloc, guess());
        }

        @Override
        public int guess() {
            return readSize(adaptiveHandle.guess(), pending.getAsInt());
        }

        /** Netty's own rule: a read that filled its buffer may have left more behind. */
        private final UncheckedBooleanSupplier filledBuffer = () -> attemptedBytesRead() == lastBytesRead();

        @Override
        public boolean continueReading() {
            // NIO asks this one; epoll asks the one below with its own supplier.
            return continueReading(filledBuffer);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            // A read that did not fill its buffer normally ends the loop, and the event loop waits for readiness
            // again. While a frame's rest is announced the guest is still writing it: read again at once (a read
            // that finds nothing ends the loop). The loop's other bounds (auto-read, reads per wake-up) still hold.
            return adaptiveHandle.continueReading(maybeMoreDataSupplier)
                    || pending.getAsInt() > 0 && adaptiveHandle.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER);
        }
    }
}
