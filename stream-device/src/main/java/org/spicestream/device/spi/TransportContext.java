package org.spicestream.device.spi;

import io.netty.channel.EventLoopGroup;
import java.util.Objects;

/**
 * What a transport gets from the server: the shared Netty event loop group, the device name for logging, and
 * the limits it must respect.
 *
 * @param eventLoopGroup the shared group; the transport picks one loop of it for all its work and never shuts it
 *     down
 * @param deviceName the device's name, put in every log line of the transport
 * @param readBufferSize the largest buffer one read from the guest may fill when nothing is known about what comes,
 *     in bytes (reads adapt below it)
 * @param maxFrameReadSize the largest read while the rest of an announced message (a frame) is coming, in bytes
 *     ({@link GuestReadAllocator}); at least {@code readBufferSize} takes effect
 * @param writeHighWaterMark bytes queued host → guest in the transport above which it reports itself not writable
 * @param writeLowWaterMark bytes queued host → guest below which it reports itself writable again
 */
public record TransportContext(
        EventLoopGroup eventLoopGroup,
        String deviceName,
        int readBufferSize,
        int maxFrameReadSize,
        int writeHighWaterMark,
        int writeLowWaterMark) {

    /** Default largest read from the guest: 64 KiB, the size the data path is designed around. */
    public static final int DEFAULT_READ_BUFFER_SIZE = 64 * 1024;

    /**
     * Default largest read while a frame's rest is coming: 256 KiB, the largest buffer Netty's adaptive allocator
     * still pools with a small heap (the launcher's -Xmx64m), and enough for a 250 KiB frame in one read when the
     * guest wrote it.
     */
    public static final int DEFAULT_MAX_FRAME_READ_SIZE = 256 * 1024;

    /** Smallest accepted read buffer size: below this a read loop costs more than it moves. */
    public static final int MIN_READ_BUFFER_SIZE = 64;

    /** Largest accepted read buffer size (16 MiB): one read must never pin more memory than this. */
    public static final int MAX_READ_BUFFER_SIZE = 16 * 1024 * 1024;

    /** Default write high-water mark: 64 KiB of host → guest bytes queued in the transport. */
    public static final int DEFAULT_WRITE_HIGH_WATER_MARK = 64 * 1024;

    /** Default write low-water mark: 32 KiB. */
    public static final int DEFAULT_WRITE_LOW_WATER_MARK = 32 * 1024;

    public TransportContext {
        Objects.requireNonNull(eventLoopGroup, "eventLoopGroup");
        Objects.requireNonNull(deviceName, "deviceName");
        if (readBufferSize < MIN_READ_BUFFER_SIZE || readBufferSize > MAX_READ_BUFFER_SIZE) {
            throw new IllegalArgumentException("readBufferSize " + readBufferSize + " is outside "
                    + MIN_READ_BUFFER_SIZE + "…" + MAX_READ_BUFFER_SIZE);
        }
        if (maxFrameReadSize < MIN_READ_BUFFER_SIZE || maxFrameReadSize > MAX_READ_BUFFER_SIZE) {
            throw new IllegalArgumentException("maxFrameReadSize " + maxFrameReadSize + " is outside "
                    + MIN_READ_BUFFER_SIZE + "…" + MAX_READ_BUFFER_SIZE);
        }
        if (writeLowWaterMark < 0 || writeHighWaterMark < writeLowWaterMark) {
            throw new IllegalArgumentException("write water marks must satisfy 0 <= low <= high, got low "
                    + writeLowWaterMark + ", high " + writeHighWaterMark);
        }
    }

    /** A context with the default limits. */
    public static TransportContext of(EventLoopGroup eventLoopGroup, String deviceName) {
        return new TransportContext(eventLoopGroup, deviceName, DEFAULT_READ_BUFFER_SIZE,
                DEFAULT_MAX_FRAME_READ_SIZE, DEFAULT_WRITE_HIGH_WATER_MARK, DEFAULT_WRITE_LOW_WATER_MARK);
    }

    /** This context with another read buffer size. */
    public TransportContext withReadBufferSize(int size) {
        return new TransportContext(eventLoopGroup, deviceName, size, maxFrameReadSize, writeHighWaterMark,
                writeLowWaterMark);
    }

    /** This context with another largest read while a frame's rest is coming. */
    public TransportContext withMaxFrameReadSize(int size) {
        return new TransportContext(eventLoopGroup, deviceName, readBufferSize, size, writeHighWaterMark,
                writeLowWaterMark);
    }

    /** This context with other write water marks. */
    public TransportContext withWriteWaterMarks(int low, int high) {
        return new TransportContext(eventLoopGroup, deviceName, readBufferSize, maxFrameReadSize, high, low);
    }
}
