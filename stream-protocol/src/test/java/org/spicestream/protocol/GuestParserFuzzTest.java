package org.spicestream.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;

/**
 * Arbitrary bytes, in arbitrary pieces: the parser throws nothing but {@link StreamProtocolException}, never
 * buffers more than the message limit, and every buffer is released (the leak detector runs at PARANOID).
 */
class GuestParserFuzzTest {

    private static final StreamLimits LIMITS = StreamLimits.DEFAULT.withMaxDataSize(64 * 1024);

    @FuzzTest(maxDuration = "20s")
    void arbitraryBytes(FuzzedDataProvider in) {
        GuestStreamParser parser = new GuestStreamParser(LIMITS);
        parser.setQualityIndicatorAllowed(in.consumeBoolean());
        while (in.remainingBytes() > 0) {
            int pieceLength = in.consumeInt(1, 4096);
            byte[] piece = in.consumeBytes(pieceLength);
            if (in.consumeBoolean() && in.consumeBoolean() && in.consumeBoolean()) {
                parser.reset();
            }
            ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(Math.max(1, piece.length)).writeBytes(piece);
            try {
                parser.parse(buf, ReferenceCountUtil::release);
            } catch (StreamProtocolException expected) {
                assertThat(expected.notifyErrorText()).isNotEmpty();
                assertThat(parser.failure()).isSameAs(expected);
            } finally {
                assertThat(buf.isReadable()).isFalse();
                buf.release();
            }
            assertThat(parser.bufferedBytes()).isLessThanOrEqualTo(StreamLimits.CURSOR_SET_MAX_BYTES);
        }
        parser.reset();
    }
}
