package org.spicestream.reds.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import org.junit.jupiter.api.Test;

/** Byte-exact data headers (spice-wire §3). */
class MessageHeadersTest {

    private static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    @Test
    void miniHeaderIsTypeAndSize() {
        MessageHeaders h = new MessageHeaders(true);
        assertThat(h.size()).isEqualTo(6);
        assertThat(bytes(h.next(ByteBufAllocator.DEFAULT, 0x0067, 0x00040010)))
                .containsExactly(0x67, 0x00, 0x10, 0x00, 0x04, 0x00);
    }

    @Test
    void fullHeaderCountsSerialsFromOne() {
        MessageHeaders h = new MessageHeaders(false);
        assertThat(h.size()).isEqualTo(18);
        assertThat(bytes(h.next(ByteBufAllocator.DEFAULT, 4, 12))).containsExactly(
                1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0);
        assertThat(bytes(h.next(ByteBufAllocator.DEFAULT, 3, 0))).containsExactly(
                2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
}
