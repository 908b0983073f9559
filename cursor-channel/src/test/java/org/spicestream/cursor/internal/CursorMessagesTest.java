package org.spicestream.cursor.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.spicestream.testsupport.Vectors;

/** Cursor bodies byte for byte against the spec's vectors, and the guest-to-SPICE cursor conversion (§10.3). */
class CursorMessagesTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    /** The 2x2 ALPHA shape of g2h_cursor_set_alpha_2x2 (guest header 8 + type/padding 4 after the 8-byte header). */
    private static CursorShape guestAlphaShape() {
        byte[] g = Vectors.bytes("g2h_cursor_set_alpha_2x2");
        int w = u16(g, 8), h = u16(g, 10), hx = u16(g, 12), hy = u16(g, 14), type = g[16];
        return CursorShape.fromGuest(type, w, h, hx, hy, Arrays.copyOfRange(g, 20, g.length));
    }

    @Test
    void B40_guestCursorSetBecomesSpiceCursorSet() {
        ByteBuf body = CursorMessages.set(ALLOC, 0, 0, true, guestAlphaShape());
        assertVector("s2c_cursor_set_alpha", CursorMessages.MSG_SET, body);
    }

    @Test
    void B42_initWithoutShapeCarriesFlagsNone() {
        assertVector("s2c_cursor_init_none", CursorMessages.MSG_INIT, CursorMessages.init(ALLOC, 0, 0, true, null));
    }

    @Test
    void B42_initCarriesTheLastShapeAndPosition() {
        assertVector("s2c_cursor_init_alpha", CursorMessages.MSG_INIT,
                CursorMessages.init(ALLOC, 640, -3, true, guestAlphaShape()));
    }

    @Test
    void B41_moveCarriesPoint16() {
        assertVector("s2c_cursor_move", CursorMessages.MSG_MOVE, CursorMessages.move(ALLOC, 640, -3));
    }

    @Test
    void R4_positionsAreClampedNotWrapped() {
        ByteBuf body = CursorMessages.move(ALLOC, 70000, -70000);
        try {
            assertThat(body.getShortLE(0)).isEqualTo(Short.MAX_VALUE);
            assertThat(body.getShortLE(2)).isEqualTo(Short.MIN_VALUE);
        } finally {
            body.release();
        }
    }

    @Test
    void extraGuestBytesAreDroppedAndShortDataRefused() {
        byte[] c32 = Vectors.bytes("g2h_cursor_set_color32_3x3");
        CursorShape shape = CursorShape.fromGuest(6, 3, 3, 0, 0,
                Arrays.copyOf(Arrays.copyOfRange(c32, 20, c32.length), 45));
        assertThat(shape.dataLength()).isEqualTo(38); // ceil(9*33/8)
        assertThatThrownBy(() -> CursorShape.fromGuest(0, 2, 2, 0, 0, new byte[15]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CursorMessages.set(ALLOC, 0, 0, true, null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertVector(String name, int type, ByteBuf body) {
        try {
            byte[] v = Vectors.bytes(name);
            assertThat(u16(v, 0)).isEqualTo(type);
            assertThat(ByteBufUtil.getBytes(body)).as(name).containsExactly(Arrays.copyOfRange(v, 6, v.length));
        } finally {
            body.release();
        }
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }
}
