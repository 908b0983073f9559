package org.spicestream.reds.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.SpiceProtocolException;

/** Header-first decoding with per-type limits: byte-exact fixtures, split and concatenated reads. */
class SpiceMessageDecoderTest {

    /** Type 3 (ACK) takes no more than 4 bytes, type 101 up to 16; others are refused. */
    private static final IntUnaryOperator LIMITS = type -> switch (type) {
        case 3 -> 4;
        case 101 -> 16;
        default -> -1;
    };

    // mini header: ACK (type 3, no body), then type 101 with body 01 02 03
    private static final byte[] MINI = {3, 0, 0, 0, 0, 0, 101, 0, 3, 0, 0, 0, 1, 2, 3};
    // full header: serial 7, type 101, size 2, sub_list 0, body AA BB
    private static final byte[] FULL = {7, 0, 0, 0, 0, 0, 0, 0, 101, 0, 2, 0, 0, 0, 0, 0, 0, 0, (byte) 0xAA, (byte) 0xBB};

    private record Read(int type, byte[] body) {}

    private static List<Read> drain(EmbeddedChannel ch) {
        List<Read> reads = new ArrayList<>();
        InboundMessage m;
        while ((m = ch.readInbound()) != null) {
            try {
                reads.add(new Read(m.type(), ByteBufUtil.getBytes(m.content())));
            } finally {
                m.release();
            }
        }
        return reads;
    }

    private static void assertMini(List<Read> reads) {
        assertThat(reads).hasSize(2);
        assertThat(reads.get(0).type()).isEqualTo(3);
        assertThat(reads.get(0).body()).isEmpty();
        assertThat(reads.get(1).type()).isEqualTo(101);
        assertThat(reads.get(1).body()).containsExactly(1, 2, 3);
    }

    @Test
    void miniHeaderMessagesInOneRead() {
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(true, LIMITS, () -> false));
        ch.writeInbound(Unpooled.wrappedBuffer(MINI));
        assertMini(drain(ch));
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void miniHeaderMessagesOneByteAtATime() {
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(true, LIMITS, () -> false));
        List<Read> reads = new ArrayList<>();
        for (byte b : MINI) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            reads.addAll(drain(ch));
        }
        assertMini(reads);
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void fullHeaderSplitInTheHeaderAndConcatenatedWithTheNext() {
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(false, LIMITS, () -> false));
        byte[] twice = new byte[FULL.length * 2];
        System.arraycopy(FULL, 0, twice, 0, FULL.length);
        System.arraycopy(FULL, 0, twice, FULL.length, FULL.length);
        ch.writeInbound(Unpooled.wrappedBuffer(twice, 0, 11));
        assertThat(drain(ch)).isEmpty();
        ch.writeInbound(Unpooled.wrappedBuffer(twice, 11, twice.length - 11));
        List<Read> reads = drain(ch);
        assertThat(reads).hasSize(2).allSatisfy(r -> {
            assertThat(r.type()).isEqualTo(101);
            assertThat(r.body()).containsExactly(0xAA, 0xBB);
        });
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void anOversizedMessageIsRefusedFromItsHeaderAlone() {
        AtomicBoolean closing = new AtomicBoolean();
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(true, LIMITS, closing::get));
        ByteBuf header = Unpooled.buffer().writeShortLE(101).writeIntLE(17); // limit 16, no body sent
        assertThatThrownBy(() -> ch.writeInbound(header))
                .isInstanceOf(DecoderException.class)
                .hasCauseInstanceOf(SpiceProtocolException.class)
                .hasMessageContaining("message type 101 of 17 bytes exceeds the limit of 16");
        closing.set(true); // the connection closes on the error: the bytes left are skipped at its end
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aTypeWithoutALimitIsRefused() {
        AtomicBoolean closing = new AtomicBoolean();
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(true, LIMITS, closing::get));
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.buffer().writeShortLE(99).writeIntLE(0)))
                .hasCauseInstanceOf(SpiceProtocolException.class)
                .hasMessageContaining("unknown or unexpected message type 99");
        closing.set(true); // the connection closes on the error: the bytes left are skipped at its end
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void messagesBeforeAnInvalidOneAreHandedOnFirst() {
        AtomicBoolean closing = new AtomicBoolean();
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(true, LIMITS, closing::get));
        ByteBuf in = Unpooled.buffer().writeBytes(MINI).writeShortLE(3).writeIntLE(5);
        assertThatThrownBy(() -> ch.writeInbound(in)).hasCauseInstanceOf(SpiceProtocolException.class);
        assertMini(drain(ch));
        closing.set(true); // the connection closes on the error: the bytes left are skipped at its end
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aClosingConnectionSkipsWhatArrivesUnchecked() {
        AtomicBoolean closing = new AtomicBoolean();
        EmbeddedChannel ch = new EmbeddedChannel(new SpiceMessageDecoder(true, LIMITS, closing::get));
        ch.writeInbound(Unpooled.wrappedBuffer(MINI, 0, 6));
        assertThat(drain(ch)).hasSize(1);
        closing.set(true);
        ch.writeInbound(Unpooled.wrappedBuffer(MINI, 6, MINI.length - 6));
        ch.writeInbound(Unpooled.buffer().writeShortLE(99).writeIntLE(1 << 30)); // garbage: no error now
        assertThat(drain(ch)).isEmpty();
        assertThat(ch.finish()).isFalse();
    }
}
