package org.spicestream.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.spicestream.testsupport.Vectors;

/** Limits, zero copy, the error state and reset. */
class ParserBehaviourTest {

    static ByteBuf header(int version, int type, long size) {
        return Unpooled.buffer(8).writeByte(version).writeByte(0).writeShortLE(type).writeIntLE((int) size);
    }

    @Test
    void aHeaderClaiming4GiBAllocatesNothing() {
        PooledByteBufAllocator alloc = new PooledByteBufAllocator(true);
        GuestStreamParser parser = new GuestStreamParser();
        ByteBuf in = alloc.directBuffer(8).writeBytes(header(1, MessageType.DATA, 0xffffffffL));
        long before = alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory();
        assertThatThrownBy(() -> parser.parse(in, m -> {}))
                .isInstanceOf(StreamProtocolException.class).hasMessageContaining("STREAM_DATA too large");
        assertThat(alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory()).isEqualTo(before);
        assertThat(parser.bufferedBytes()).isZero();
        in.release();
    }

    @Test
    void theDataLimitIsInclusiveAndCanBeLowered() {
        GuestStreamParser lowered = new GuestStreamParser(StreamLimits.DEFAULT.withMaxDataSize(100));
        List<GuestMessage> out = new ArrayList<>();
        ByteBuf ok = header(1, MessageType.DATA, 100).writeZero(100);
        lowered.parse(ok, out::add);
        assertThat(out).hasSize(1);
        out.forEach(m -> ((Data) m).release());
        ByteBuf tooLarge = header(1, MessageType.DATA, 101);
        assertThatThrownBy(() -> lowered.parse(tooLarge, out::add))
                .isInstanceOfSatisfying(StreamProtocolException.class,
                        e -> assertThat(e.notifyErrorText()).isEqualTo("STREAM_DATA too large"));

        GuestStreamParser standard = new GuestStreamParser();
        assertThat(standard.limits().maxDataSize()).isEqualTo(33_554_432);
        standard.parse(header(1, MessageType.DATA, 33_554_432), out::add);
        assertThat(standard.hasPartialMessage()).isTrue();
        standard.reset();
        assertThatThrownBy(() -> new GuestStreamParser().parse(header(1, MessageType.DATA, 33_554_433), m -> {}))
                .isInstanceOf(StreamProtocolException.class);
        assertThatThrownBy(() -> StreamLimits.DEFAULT.withMaxDataSize(33_554_433))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aContiguousFrameIsASliceOfTheInputNotACopy() {
        ByteBuf in = ByteBufAllocator.DEFAULT.heapBuffer();
        in.writeBytes(header(1, MessageType.DATA, 64 * 1024)).writeZero(64 * 1024);
        List<GuestMessage> out = new ArrayList<>();
        new GuestStreamParser().parse(in, out::add);
        Data data = (Data) out.get(0);
        assertThat(data.content().array()).as("same backing memory").isSameAs(in.array());
        assertThat(data.content().arrayOffset()).isEqualTo(in.arrayOffset() + 8);
        assertThat(in.refCnt()).as("the frame retains the read buffer").isEqualTo(2);
        data.release();
        in.release();
    }

    @Test
    void aFrameSpanningReadsIsCollectedFromSlicesOfTheReads() {
        int size = 256 * 1024;
        GuestStreamParser parser = new GuestStreamParser();
        List<GuestMessage> out = new ArrayList<>();
        List<ByteBuf> reads = new ArrayList<>();
        ByteBuf all = Unpooled.buffer().writeBytes(header(1, MessageType.DATA, size));
        for (int i = 0; i < size; i++) {
            all.writeByte(i * 31);
        }
        while (all.isReadable()) {
            ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer(64 * 1024);
            read.writeBytes(all, Math.min(64 * 1024, all.readableBytes()));
            reads.add(read);
            parser.parse(read, out::add);
            assertThat(parser.bufferedBytes()).isLessThanOrEqualTo(size);
        }
        Data data = (Data) out.get(0);
        assertThat(data.content().readableBytes()).isEqualTo(size);
        for (int i = 0; i < size; i += 4099) {
            assertThat(data.content().getByte(i)).isEqualTo((byte) (i * 31));
        }
        // Every large read is referenced by the frame instead of being copied into it.
        assertThat(reads.stream().filter(r -> r.refCnt() == 2)).hasSizeGreaterThanOrEqualTo(4);
        reads.forEach(ByteBuf::release);
        data.release();
        all.release();
    }

    @Test
    void pendingBytesAreTheRestOfTheAnnouncedPayload() {
        GuestStreamParser parser = new GuestStreamParser();
        List<GuestMessage> out = new ArrayList<>();
        assertThat(parser.pendingBytes()).isZero();
        parser.parse(header(1, MessageType.DATA, 10_000).writeZero(3_000), out::add);
        assertThat(parser.pendingBytes()).isEqualTo(7_000);
        parser.parse(Unpooled.buffer().writeZero(6_999), out::add);
        assertThat(parser.pendingBytes()).isEqualTo(1);
        parser.parse(Unpooled.buffer().writeZero(1).writeBytes(header(1, MessageType.DATA, 50)), out::add);
        assertThat(out).hasSize(1);
        assertThat(parser.pendingBytes()).isEqualTo(50);
        parser.reset();
        assertThat(parser.pendingBytes()).isZero();
        out.forEach(m -> ((Data) m).release());
    }

    @Test
    void aSmallPieceOfABigReadIsCopiedSoThatItDoesNotPinTheRead() {
        int max = FrameParser.MAX_PIN_FACTOR;
        GuestStreamParser parser = new GuestStreamParser();
        List<GuestMessage> out = new ArrayList<>();
        // 8 KiB of a 256 KiB read buffer: a slice would keep 32 times its size alive
        ByteBuf big = ByteBufAllocator.DEFAULT.directBuffer(256 * 1024, 256 * 1024);
        big.writeBytes(header(1, MessageType.DATA, 100_000)).writeZero(8 * 1024);
        parser.parse(big, out::add);
        assertThat(big.refCnt()).as("copied, not retained").isEqualTo(1);
        // a piece of at least a quarter of its read is kept as a slice
        ByteBuf quarter = ByteBufAllocator.DEFAULT.directBuffer(64 * 1024, 64 * 1024).writeZero(64 * 1024 / max);
        parser.parse(quarter, out::add);
        assertThat(quarter.refCnt()).as("retained by the frame").isEqualTo(2);
        // the rest (74 KiB) and a whole small frame in a 1 MiB read are copied too
        ByteBuf rest = ByteBufAllocator.DEFAULT.directBuffer(1024 * 1024, 1024 * 1024)
                .writeZero(100_000 - 8 * 1024 - 64 * 1024 / max)
                .writeBytes(header(1, MessageType.DATA, 1_000)).writeZero(1_000);
        parser.parse(rest, out::add);
        assertThat(out).hasSize(2);
        assertThat(((Data) out.get(0)).content().readableBytes()).isEqualTo(100_000);
        assertThat(((Data) out.get(1)).content().readableBytes()).isEqualTo(1_000);
        assertThat(rest.refCnt()).as("neither the small tail nor the small frame pins the read").isEqualTo(1);
        out.forEach(m -> ((Data) m).release());
        assertThat(quarter.refCnt()).isEqualTo(1);
        big.release();
        quarter.release();
        rest.release();
    }

    @Test
    void afterAnErrorEverythingIsDiscardedUntilReset() {
        GuestStreamParser parser = new GuestStreamParser();
        List<GuestMessage> out = new ArrayList<>();
        ByteBuf bad = Unpooled.wrappedBuffer(Vectors.bytes("g2h_format_wrong_size"),
                Vectors.bytes("g2h_format_mjpeg_640x480"));
        assertThatThrownBy(() -> parser.parse(bad, out::add)).isInstanceOf(StreamProtocolException.class);
        assertThat(bad.isReadable()).as("the rest of the read is consumed").isFalse();
        ByteBuf good = Unpooled.wrappedBuffer(Vectors.bytes("g2h_format_mjpeg_640x480"));
        parser.parse(good, out::add);
        assertThat(out).as("discarded in the error state").isEmpty();
        assertThat(good.isReadable()).isFalse();
        assertThat(parser.failure().notifyErrorText()).isEqualTo("Wrong size for StreamMsgFormat");

        parser.reset();
        assertThat(parser.failure()).isNull();
        parser.parse(Unpooled.wrappedBuffer(Vectors.bytes("g2h_format_mjpeg_640x480")), out::add);
        assertThat(out).containsExactly(new Format(640, 480, VideoCodec.MJPEG));
    }

    @Test
    void resetDropsAPartialFrameAndReleasesIt() {
        GuestStreamParser parser = new GuestStreamParser();
        ByteBuf part = ByteBufAllocator.DEFAULT.directBuffer().writeBytes(header(1, MessageType.DATA, 10_000))
                .writeZero(5_000);
        parser.parse(part, m -> {});
        assertThat(parser.bufferedBytes()).isEqualTo(5_000);
        assertThat(part.refCnt()).isEqualTo(2);
        parser.reset();
        assertThat(part.refCnt()).isEqualTo(1);
        assertThat(parser.hasPartialMessage()).isFalse();
        part.release();
    }

    @Test
    void stricterThanTheReference() {
        // R2: version other than 1
        assertError(header(2, MessageType.FORMAT, 12).writeZero(12), "Protocol error");
        // R3: zero size, huge size and unknown codec
        assertError(format(0, 480, 1), "Protocol error");
        assertError(format(8193, 480, 1), "Protocol error");
        assertError(format(640, 480, 0), "Protocol error");
        assertError(format(640, 480, 6), "Protocol error");
        // R4: DEVICE_DISPLAY_INFO shorter than its fixed part
        assertError(header(1, MessageType.DEVICE_DISPLAY_INFO, 11).writeZero(11), "Protocol error");
        // host-only and unknown types
        assertError(header(1, MessageType.START_STOP, 1).writeZero(1), "Invalid message type");
        assertError(header(1, MessageType.NOTIFY_ERROR, 4).writeZero(4), "Invalid message type");
        assertError(header(1, 10, 0), "Invalid message type");
        assertError(header(1, 0xffff, 0), "Invalid message type");
        // sizes of B9
        assertError(header(1, MessageType.CAPABILITIES, 1025), "Wrong size for StreamMsgCapabilities");
        assertError(header(1, MessageType.CURSOR_MOVE, 9), "Wrong size for StreamMsgCursorMove");
        assertError(header(1, MessageType.CURSOR_SET, 11), "Cursor size is invalid");
        assertError(header(1, MessageType.CURSOR_SET, 4_325_389), "Cursor size is invalid");
        assertError(header(1, MessageType.DEVICE_DISPLAY_INFO, 269), "StreamMsgDeviceDisplayInfo too large");
        assertError(cursor(1025, 1, 0, 4100), "Protocol error");
        assertError(cursor(1, 1, 1, 4), "Protocol error");
    }

    @Test
    void limitsAtTheirEdgesAreAccepted() {
        List<GuestMessage> out = new ArrayList<>();
        new GuestStreamParser().parse(header(1, MessageType.CAPABILITIES, 1024).writeZero(1024), out::add);
        new GuestStreamParser().parse(format(8192, 8192, 5), out::add);
        new GuestStreamParser().parse(cursor(1024, 1024, 6, 4_325_376), out::add);
        assertThat(out).hasSize(3);
        assertThat(((CursorSet) out.get(2)).pixelBytes()).as("extra bytes dropped").isEqualTo(4 * 1024 * 1024
                + 1024 * 1024 / 8);
    }

    @Test
    void deviceDisplayInfoAsTheReferenceReadsIt() {
        List<GuestMessage> out = new ArrayList<>();
        GuestStreamParser parser = new GuestStreamParser();
        // address length 0: consumed and ignored
        parser.parse(header(1, 8, 12).writeIntLE(1).writeIntLE(2).writeIntLE(0), out::add);
        // address running past the payload: ignored
        parser.parse(header(1, 8, 14).writeIntLE(1).writeIntLE(2).writeIntLE(5).writeBytes("ab".getBytes()), out::add);
        assertThat(out).isEmpty();
        assertThat(parser.ignoredMessages()).isEqualTo(2);
        // length beyond 256 is truncated to 256, last byte forced to NUL
        ByteBuf longAddress = header(1, 8, 268).writeIntLE(7).writeIntLE(3).writeIntLE(1000);
        for (int i = 0; i < 256; i++) {
            longAddress.writeByte('a');
        }
        parser.parse(longAddress, out::add);
        assertThat(out).containsExactly(new DeviceDisplayInfo(7, 3, "a".repeat(255)));
    }

    static ByteBuf format(long w, long h, int codec) {
        return header(1, MessageType.FORMAT, 12).writeIntLE((int) w).writeIntLE((int) h).writeByte(codec).writeZero(3);
    }

    static ByteBuf cursor(int w, int h, int type, int dataBytes) {
        return header(1, MessageType.CURSOR_SET, 12 + dataBytes).writeShortLE(w).writeShortLE(h).writeShortLE(0)
                .writeShortLE(0).writeByte(type).writeZero(3).writeZero(dataBytes);
    }

    static void assertError(ByteBuf in, String text) {
        GuestStreamParser parser = new GuestStreamParser();
        List<GuestMessage> out = new ArrayList<>();
        assertThatThrownBy(() -> parser.parse(in, out::add))
                .isInstanceOfSatisfying(StreamProtocolException.class,
                        e -> assertThat(e.notifyErrorText()).isEqualTo(text));
        assertThat(out).isEmpty();
        in.release();
    }
}
