package org.spicestream.device.spi;

import io.netty.buffer.ByteBuf;

/**
 * Receives the events of a guest port from a {@link GuestTransport}; every method is called on the transport's
 * {@link GuestTransport#executor()}.
 *
 * <p>Events come in the order {@code portOpened, dataReceived*, portClosed}, repeated for every guest
 * connection; {@code writabilityChanged} may come in between.
 */
public interface GuestPortHandler {

    /** The guest opened the port (a guest connection exists). */
    void portOpened();

    /**
     * Bytes from the guest. The buffer is borrowed: it is valid only during the call and the transport releases
     * it afterwards; retain it (or a {@code retainedSlice}) to keep it.
     */
    void dataReceived(ByteBuf data);

    /** The guest closed the port (the guest connection is gone). */
    void portClosed();

    /** The transport's host → guest buffer went above its high-water mark ({@code false}) or back below the low one. */
    void writabilityChanged(boolean writable);

    /**
     * Bytes the guest has announced and not yet sent (the rest of a message whose header was read), 0 when none are
     * known. A transport may size its next read to them ({@link GuestReadAllocator}); it is only a hint.
     */
    default int pendingBytes() {
        return 0;
    }
}
