package org.spicestream.device.spi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import java.util.Objects;
import java.util.function.IntSupplier;

/**
 * Sizes reads from the guest: adaptively between {@link TransportContext#MIN_READ_BUFFER_SIZE} and the context's
 * {@link TransportContext#readBufferSize()} as Netty's {@link AdaptiveRecvByteBufAllocator} does, and, while the port
 * handler knows that more of an announced message is coming ({@link GuestPortHandler#pendingBytes()}), as large as
 * that rest, up to {@link TransportContext#maxFrameReadSize()}: a frame arrives in fewer reads and event-loop wake-ups.
 */
public final class GuestReadAllocator implements RecvByteBufAllocator {

    private final AdaptiveRecvByteBufAllocator adaptive;
    private final int maxHinted;
    private final IntSupplier pending;

    /**
     * @param ctx the read bounds
     * @param pending bytes known to be coming (called on the channel's event loop before each read)
     */
    public GuestReadAllocator(TransportContext ctx, IntSupplier pending) {
        this.adaptive = new AdaptiveRecvByteBufAllocator(TransportContext.MIN_READ_BUFFER_SIZE, ctx.readBufferSize(),
                ctx.readBufferSize());
        this.maxHinted = Math.max(ctx.readBufferSize(), ctx.maxFrameReadSize());
        this.pending = Objects.requireNonNull(pending, "pending");
    }

    /** A read allocator that asks {@code port} how much is coming. */
    public static GuestReadAllocator forPort(TransportContext ctx, GuestPortHandler port) {
        return new GuestReadAllocator(ctx, port::pendingBytes);
    }

    @Override
    public Handle newHandle() {
        return new HintedHandle((ExtendedHandle) adaptive.newHandle());
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
            return alloc.ioBuffer(guess());
        }

        @Override
        public int guess() {
            return readSize(adaptiveHandle.guess(), pending.getAsInt());
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return adaptiveHandle.continueReading(maybeMoreDataSupplier);
        }
    }
}
