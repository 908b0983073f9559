package org.spicestream.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

class NettyLeakDetectionTest {

    @Test
    void leakDetectorRunsAtParanoidWithTheRecordingFactory() {
        assertThat(NettyLeakDetection.isInstalled()).isTrue();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void anUnreleasedBufferIsReportedAsALeak() {
        NettyLeakDetection.collectLeaks();
        leakOneBuffer();
        assertThat(NettyLeakDetection.collectLeaks())
                .as("the buffer dropped without release() must be reported")
                .anySatisfy(leak -> assertThat(leak).contains("LEAK").contains("leakOneBuffer"));
    }

    @Test
    void releasedBuffersAreNotReported() {
        NettyLeakDetection.collectLeaks();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeLong(1);
        buf.release();
        assertThat(NettyLeakDetection.collectLeaks()).isEmpty();
    }

    @Test
    void vectorsAreReadByteExact() {
        assertThat(Vectors.bytes("s2c_mark")).containsExactly(0x66, 0x00, 0, 0, 0, 0);
        assertThat(Vectors.names("g2h_")).contains("g2h_format_mjpeg_640x480", "g2h_cursor_move");
        assertThat(Vectors.description("s2c_mark")).contains("MARK");
    }

    private static void leakOneBuffer() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeLong(42);
    }
}
