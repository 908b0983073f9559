package org.spicestream.device.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReadBufferPoolTest {

    private static final int SMALL = 64 * 1024;
    private static final int LARGE = 256 * 1024;

    private final ReadBufferPool pool = new ReadBufferPool(SMALL, LARGE);

    @Test
    void aReadGetsExactlyTheBytesAskedForFromTheSmallestSizeThatHoldsThem() {
        ByteBuf a = pool.take(ByteBufAllocator.DEFAULT, 100);
        ByteBuf b = pool.take(ByteBufAllocator.DEFAULT, SMALL + 1);
        try {
            assertThat(a.writableBytes()).isEqualTo(100);
            assertThat(a.readableBytes()).isZero();
            assertThat(a.capacity()).isEqualTo(SMALL);
            assertThat(b.writableBytes()).isEqualTo(SMALL + 1);
            assertThat(b.capacity()).isEqualTo(LARGE);
            assertThat(a.isDirect()).isTrue();
            assertThat(a.alloc()).isSameAs(ByteBufAllocator.DEFAULT);
        } finally {
            a.release();
            b.release();
        }
        assertThatThrownBy(() -> pool.take(ByteBufAllocator.DEFAULT, LARGE + 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aReleasedBufferIsReusedWithItsIndexesAndCountReset() {
        ByteBuf first = pool.take(ByteBufAllocator.DEFAULT, 1000);
        first.writeBytes(new byte[1000]);
        first.release();
        assertThat(pool.idle()).isEqualTo(1);

        ByteBuf second = pool.take(ByteBufAllocator.DEFAULT, 2000);
        try {
            assertThat(second).isSameAs(first);
            assertThat(second.refCnt()).isEqualTo(1);
            assertThat(second.readableBytes()).isZero();
            assertThat(second.writableBytes()).isEqualTo(2000);
            assertThat(pool.created()).isEqualTo(1);
            assertThat(pool.reused()).isEqualTo(1);
            assertThat(pool.idle()).isZero();
        } finally {
            second.release();
        }
    }

    @Test
    void aSliceKeepsItsBufferOutOfThePoolUntilItIsReleased() {
        ByteBuf read = pool.take(ByteBufAllocator.DEFAULT, SMALL);
        read.writeBytes(new byte[SMALL]);
        ByteBuf frame = read.readRetainedSlice(SMALL / 2);
        read.release();
        assertThat(pool.idle()).isZero();

        ByteBuf other = pool.take(ByteBufAllocator.DEFAULT, SMALL);
        assertThat(other).isNotSameAs(read);
        other.release();
        frame.release();
        assertThat(pool.idle()).isEqualTo(2);
        assertThat(pool.created()).isEqualTo(2);
    }

    @Test
    void buffersBeyondTheIdleBoundAreFreedAndCounted() {
        int keep = ReadBufferPool.MAX_IDLE_BYTES_PER_SIZE / LARGE;
        List<ByteBuf> taken = new ArrayList<>();
        for (int i = 0; i < keep + 3; i++) {
            taken.add(pool.take(ByteBufAllocator.DEFAULT, LARGE));
        }
        taken.forEach(ByteBuf::release);
        assertThat(pool.idle()).isEqualTo(keep);
        assertThat(pool.freed()).isEqualTo(3);
    }

    @Test
    void oneSizeWhenBothAreEqual() {
        ReadBufferPool single = new ReadBufferPool(SMALL, SMALL);
        ByteBuf a = single.take(ByteBufAllocator.DEFAULT, SMALL);
        a.release();
        assertThat(single.idle()).isEqualTo(1);
        assertThatThrownBy(() -> new ReadBufferPool(SMALL, SMALL - 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
