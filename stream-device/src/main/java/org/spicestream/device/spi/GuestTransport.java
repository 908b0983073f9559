package org.spicestream.device.spi;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.Optional;

/**
 * A byte pipe to one guest port: delivers guest events to a {@link GuestPortHandler} and writes host → guest
 * bytes.
 *
 * <p>All handler callbacks run on {@link #executor()}. The methods of this interface may be called from any
 * thread; those that change state take effect on the executor.
 */
public interface GuestTransport extends AutoCloseable {

    /**
     * Starts connecting or listening and delivers events to {@code handler} from now on. May be called once.
     *
     * @throws IllegalStateException when already started or closed
     * @throws java.io.UncheckedIOException when a listening endpoint cannot be bound (checked at once when not
     *     called on an event loop)
     */
    void start(GuestPortHandler handler);

    /** The single executor on which every handler callback runs and to which the device confines its state. */
    EventExecutor executor();

    /**
     * Writes bytes to the guest, taking ownership of {@code data}. Returns {@code false} (and releases the buffer)
     * when no guest is connected or the transport is closed; {@code true} means the bytes were handed over and
     * will be written unless the connection is lost first.
     */
    boolean write(ByteBuf data);

    /**
     * Stops ({@code true}) or resumes ({@code false}) reading from the guest. Once the call has taken effect on the
     * executor no {@code dataReceived} follows until reading is resumed; bytes already read are held and
     * delivered on resume. The setting survives reconnections. Applies at once when called on the executor.
     */
    void setReadingPaused(boolean paused);

    /**
     * Drops the current guest connection once the writes already handed over are flushed ("disable the port",
     * server behaviour B10); a connecting transport reconnects, a listening one waits for the guest again.
     */
    void disconnectGuest();

    /**
     * Stops the transport for good: the guest connection is closed ({@code portClosed} is delivered if the port
     * was open), and no reconnect or accept happens afterwards. Idempotent. Waits for completion (bounded) unless
     * called on an event loop.
     */
    @Override
    void close();

    /** A short description for logs, such as {@code tcp connect 127.0.0.1:5900}. */
    String describe();

    /**
     * An optional capability of this transport beyond the byte pipe, such as {@link GuestInputSink} (input into the
     * VM); empty when it has none of that type. Asking never starts anything; the same instance every time.
     */
    default <T> Optional<T> capability(Class<T> type) {
        return Optional.empty();
    }
}
