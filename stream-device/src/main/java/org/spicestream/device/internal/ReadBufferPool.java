package org.spicestream.device.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * Recycles the direct buffers guest reads land in, in two sizes (a plain read and the largest read of a frame's
 * rest), so that streaming reuses the same memory instead of asking the shared allocator for a fresh region per
 * read. Issue 14: with the launcher's small heap Netty's adaptive allocator made (and zeroed) a new chunk for most
 * guest reads and gave it back to the C heap afterwards — in a profile at 256 KiB frames the zeroing cost as much
 * as the kernel's copy out of the guest socket.
 *
 * <p>A buffer returns here when its last reference (the read itself, or a frame sliced from it and queued for
 * clients) is released, from any thread. At most {@link #MAX_IDLE_BYTES_PER_SIZE} of each size wait idle; a buffer
 * released beyond that is freed (counted in {@link #freed()}). Buffers in use are bounded by what holds them: the
 * clients' send queues. Every buffer handed out is tracked by Netty's leak detector like an allocator's.
 */
public final class ReadBufferPool {

    /** Idle bytes kept per buffer size (1 MiB): 16 plain 64 KiB reads or 4 frame reads of 256 KiB. */
    public static final int MAX_IDLE_BYTES_PER_SIZE = 1024 * 1024;

    private static final ResourceLeakDetector<ByteBuf> LEAKS =
            ResourceLeakDetectorFactory.instance().newResourceLeakDetector(ByteBuf.class);

    private final Size small;
    private final Size large;
    private final LongAdder created = new LongAdder();
    private final LongAdder reused = new LongAdder();
    private final LongAdder freed = new LongAdder();

    /**
     * @param smallSize capacity of a plain read's buffer
     * @param largeSize capacity of the largest read (at least {@code smallSize})
     */
    public ReadBufferPool(int smallSize, int largeSize) {
        if (smallSize < 1 || largeSize < smallSize) {
            throw new IllegalArgumentException("sizes " + smallSize + " / " + largeSize);
        }
        this.small = new Size(smallSize);
        this.large = largeSize == smallSize ? small : new Size(largeSize);
    }

    /**
     * A buffer with exactly {@code bytes} writable (at most the large size), reusing an idle one when there is one.
     * {@code alloc} is what the buffer reports as its allocator: the parser allocates from it what it copies.
     */
    public ByteBuf take(ByteBufAllocator alloc, int bytes) {
        Size size = bytes <= small.capacity ? small : large;
        if (bytes > size.capacity) {
            throw new IllegalArgumentException(bytes + " bytes is more than the largest read, " + size.capacity);
        }
        ReadBuf buf = size.poll();
        if (buf == null) {
            created.increment();
            buf = new ReadBuf(alloc, size);
        } else {
            reused.increment();
            buf.reuse();
        }
        // The reader fills exactly what was asked for; the space in front stays unused.
        int start = size.capacity - bytes;
        buf.setIndex(start, start);
        buf.leak = LEAKS.track(buf);
        return buf;
    }

    /** Buffers made so far (a read that found no idle one of its size). */
    public long created() {
        return created.sum();
    }

    /** Reads served by an idle buffer. */
    public long reused() {
        return reused.sum();
    }

    /** Buffers freed because their size already had {@link #MAX_IDLE_BYTES_PER_SIZE} idle. */
    public long freed() {
        return freed.sum();
    }

    /** Idle buffers of both sizes. */
    public int idle() {
        return small.idle() + (large == small ? 0 : large.idle());
    }

    /** The idle buffers of one size, most recently released first: its memory is the likeliest to be in cache. */
    private static final class Size {
        final int capacity;
        private final int maxIdle;
        private final ArrayDeque<ReadBuf> idle = new ArrayDeque<>();

        Size(int capacity) {
            this.capacity = capacity;
            this.maxIdle = Math.max(1, MAX_IDLE_BYTES_PER_SIZE / capacity);
        }

        synchronized ReadBuf poll() {
            return idle.pollFirst();
        }

        /** False when {@code maxIdle} wait already. Frames are released on client loops, so any thread may call. */
        synchronized boolean offer(ReadBuf buf) {
            if (idle.size() >= maxIdle) {
                return false;
            }
            idle.addFirst(buf);
            return true;
        }

        synchronized int idle() {
            return idle.size();
        }
    }

    private final class ReadBuf extends UnpooledUnsafeDirectByteBuf {
        private final Size size;
        ResourceLeakTracker<ByteBuf> leak;

        ReadBuf(ByteBufAllocator alloc, Size size) {
            super(alloc, size.capacity, size.capacity);
            this.size = size;
        }

        void reuse() {
            resetRefCnt();
        }

        @Override
        protected void deallocate() {
            ResourceLeakTracker<ByteBuf> tracker = leak;
            leak = null;
            if (tracker != null) {
                tracker.close(this);
            }
            if (!size.offer(this)) {
                freed.increment();
                super.deallocate();
            }
        }
    }
}
