package org.spicestream.streamchannel.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.spicestream.testsupport.Vectors;

/** Display message bodies, byte for byte against the spec's s2c_ / c2s_ vectors (mini header stripped). */
class DisplayMessagesTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @Test
    void surfaceCreateStreamingAndPlain() {
        assertBody("s2c_surface_create_streaming", DisplayMessages.MSG_SURFACE_CREATE,
                a -> DisplayMessages.surfaceCreate(a, 0, 1024, 768,
                        DisplayMessages.SURFACE_FLAG_PRIMARY | DisplayMessages.SURFACE_FLAG_STREAMING_MODE));
        assertBody("s2c_surface_create_plain", DisplayMessages.MSG_SURFACE_CREATE,
                a -> DisplayMessages.surfaceCreate(a, 0, 1024, 768, DisplayMessages.SURFACE_FLAG_PRIMARY));
    }

    @Test
    void surfaceDestroy() {
        assertBody("s2c_surface_destroy", DisplayMessages.MSG_SURFACE_DESTROY, a -> DisplayMessages.surfaceDestroy(a, 0));
    }

    @Test
    void monitorsConfig() {
        assertBody("s2c_monitors_config", DisplayMessages.MSG_MONITORS_CONFIG,
                a -> DisplayMessages.monitorsConfig(a, 0, 1024, 768));
    }

    @Test
    void drawFillBlack() {
        assertBody("s2c_draw_fill_black", DisplayMessages.MSG_DRAW_FILL, a -> DisplayMessages.drawFillBlack(a, 0, 1024, 768));
    }

    @Test
    void markAndInvalAllPalettesAreEmpty() {
        assertBody("s2c_mark", DisplayMessages.MSG_MARK, DisplayMessages::empty);
        assertBody("s2c_display_inval_all_palettes", DisplayMessages.MSG_INVAL_ALL_PALETTES, DisplayMessages::empty);
    }

    @Test
    void streamCreate() {
        assertBody("s2c_stream_create", DisplayMessages.MSG_STREAM_CREATE,
                a -> DisplayMessages.streamCreate(a, 0, 0, 1, 1024, 768));
    }

    @Test
    void streamDataHeadPlusPayload() {
        byte[] vector = Vectors.bytes("s2c_stream_data");
        ByteBuf head = DisplayMessages.streamDataHead(ALLOC, 0, 0x01020304, 4);
        try {
            byte[] body = Arrays.copyOfRange(vector, 6, vector.length);
            assertThat(ByteBufUtil.getBytes(head)).containsExactly(Arrays.copyOfRange(body, 0, 12));
            assertThat(Arrays.copyOfRange(body, 12, body.length)).containsExactly(0xff, 0xd8, 0xff, 0xd9);
            assertThat(typeOf(vector)).isEqualTo(DisplayMessages.MSG_STREAM_DATA);
        } finally {
            head.release();
        }
    }

    @Test
    void streamDataSizedHead() {
        assertBody("s2c_stream_data_sized", DisplayMessages.MSG_STREAM_DATA_SIZED,
                a -> DisplayMessages.streamDataSizedHead(a, 0, 7, 16, 8, 0));
    }

    @Test
    void streamDestroyAndActivateReport() {
        assertBody("s2c_stream_destroy", DisplayMessages.MSG_STREAM_DESTROY, a -> DisplayMessages.streamDestroy(a, 0));
        assertBody("s2c_stream_activate_report", DisplayMessages.MSG_STREAM_ACTIVATE_REPORT,
                a -> DisplayMessages.streamActivateReport(a, 0, 1, 5, 1000));
    }

    @Test
    void streamReportsParse() {
        ByteBuf report = ALLOC.buffer().writeBytes(body("c2s_stream_report"));
        ByteBuf invalid = ALLOC.buffer().writeBytes(body("c2s_stream_report_invalid_stream"));
        try {
            org.spicestream.streamchannel.StreamReport r = DisplayMessages.parseStreamReport(report);
            assertThat(r).isEqualTo(new org.spicestream.streamchannel.StreamReport(0, 1, 1000, 1160, 5, 1, 350, 0xffffffffL));
            assertThat(r.isInvalidStream()).isFalse();
            org.spicestream.streamchannel.StreamReport bad = DisplayMessages.parseStreamReport(invalid);
            assertThat(bad.streamId()).isEqualTo(3);
            assertThat(bad.isInvalidStream()).isTrue();
            assertThat(typeOf(Vectors.bytes("c2s_stream_report"))).isEqualTo(DisplayMessages.MSGC_STREAM_REPORT);
        } finally {
            report.release();
            invalid.release();
        }
    }

    private static void assertBody(String vectorName, int type, Function<ByteBufAllocator, ByteBuf> encoder) {
        byte[] vector = Vectors.bytes(vectorName);
        ByteBuf body = encoder.apply(ALLOC);
        try {
            assertThat(typeOf(vector)).as("message type of %s", vectorName).isEqualTo(type);
            assertThat(ByteBufUtil.getBytes(body)).as(vectorName).containsExactly(body(vectorName));
        } finally {
            body.release();
        }
    }

    private static byte[] body(String vectorName) {
        byte[] vector = Vectors.bytes(vectorName);
        return Arrays.copyOfRange(vector, 6, vector.length);
    }

    private static int typeOf(byte[] vector) {
        return (vector[0] & 0xff) | (vector[1] & 0xff) << 8;
    }
}
