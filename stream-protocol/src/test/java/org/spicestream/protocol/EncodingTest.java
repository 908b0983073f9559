package org.spicestream.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.spicestream.testsupport.Vectors;

/** Both encoders write the vectors byte-exact, and the host → guest decoder reads the h2g vectors back. */
class EncodingTest {

    static Stream<Arguments> hostMessages() {
        return Stream.of(
                Arguments.of("h2g_capabilities", Capabilities.of()),
                Arguments.of("h2g_start_stop_all", StartStop.of(VideoCodec.values())),
                Arguments.of("h2g_start_stop_mjpeg_vp8", StartStop.of(VideoCodec.MJPEG, VideoCodec.VP8)),
                Arguments.of("h2g_start_stop_mjpeg", StartStop.of(VideoCodec.MJPEG)),
                Arguments.of("h2g_start_stop_stop", StartStop.STOP),
                Arguments.of("h2g_notify_error_invalid_type", new NotifyError(0, "Invalid message type")),
                Arguments.of("h2g_notify_error_data_too_large", new NotifyError(0, "STREAM_DATA too large")),
                Arguments.of("h2g_notify_error_protocol_error", new NotifyError(0, "Protocol error")));
    }

    @Test
    void everyHostVectorIsCovered() {
        assertThat(hostMessages().map(a -> (String) a.get()[0]).toList())
                .containsExactlyInAnyOrderElementsOf(Vectors.names("h2g_"));
    }

    @ParameterizedTest
    @MethodSource("hostMessages")
    void hostEncoderWritesTheVector(String name, HostMessage message) {
        EmbeddedChannel channel = new EmbeddedChannel(new HostMessageEncoder());
        assertThat(channel.writeOutbound(message)).isTrue();
        ByteBuf out = channel.readOutbound();
        try {
            assertThat(ByteBufUtil.getBytes(out)).isEqualTo(Vectors.bytes(name));
        } finally {
            out.release();
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @ParameterizedTest
    @MethodSource("hostMessages")
    void hostDecoderReadsTheVectorInEverySplit(String name, HostMessage message) {
        byte[] bytes = Vectors.bytes(name);
        for (int cut = 0; cut < bytes.length; cut++) {
            List<Object> got = new ArrayList<>();
            EmbeddedChannel channel = new EmbeddedChannel(new HostMessageDecoder());
            if (cut > 0) {
                channel.writeInbound(channel.alloc().buffer().writeBytes(bytes, 0, cut));
            }
            channel.writeInbound(channel.alloc().buffer().writeBytes(bytes, cut, bytes.length - cut));
            for (Object m; (m = channel.readInbound()) != null; ) {
                got.add(m);
            }
            assertThat(got).as("%s cut %d", name, cut).containsExactly(message);
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    static Stream<String> encodableGuestVectors() {
        return Vectors.names("g2h_").stream().filter(n -> !GuestVectorsTest.MALFORMED.containsKey(n))
                // one byte 0 and an empty bitmap are both "no capability"; the encoder keeps the given bitmap
                .filter(n -> GuestVectorsTest.expected(n) != null);
    }

    @ParameterizedTest
    @MethodSource("encodableGuestVectors")
    void guestEncoderWritesTheVector(String name) {
        EmbeddedChannel channel = new EmbeddedChannel(new GuestMessageEncoder());
        for (GuestMessage m : GuestVectorsTest.expected(name)) {
            channel.writeOutbound(m);
        }
        ByteBuf all = channel.alloc().buffer();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        try {
            assertThat(ByteBufUtil.getBytes(all)).isEqualTo(Vectors.bytes(name));
        } finally {
            all.release();
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void dataIsEncodedWithoutCopyingThePayload() {
        ByteBuf payload = io.netty.buffer.Unpooled.directBuffer(1024).writeZero(1024);
        ByteBuf encoded = StreamMessages.encode(new Data(payload), io.netty.buffer.ByteBufAllocator.DEFAULT);
        try {
            assertThat(payload.refCnt()).as("the frame holds a reference, not a copy").isEqualTo(2);
            assertThat(encoded.readableBytes()).isEqualTo(8 + 1024);
            assertThat(encoded.getIntLE(4)).isEqualTo(1024);
        } finally {
            encoded.release();
            payload.release();
        }
        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void hostDecoderSkipsUnknownCodecsAndRejectsOtherTypes() {
        EmbeddedChannel channel = new EmbeddedChannel(new HostMessageDecoder());
        // START_STOP with codecs 1, 9 (unknown), 2
        channel.writeInbound(channel.alloc().buffer().writeBytes(new byte[] {1, 0, 4, 0, 4, 0, 0, 0, 3, 1, 9, 2}));
        assertThat((Object) channel.readInbound()).isEqualTo(StartStop.of(VideoCodec.MJPEG, VideoCodec.VP8));
        // FORMAT is never sent by a host
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> channel.writeInbound(
                        channel.alloc().buffer().writeBytes(new byte[] {1, 0, 2, 0, 0, 0, 0, 0})))
                .isInstanceOf(StreamProtocolException.class)
                .extracting(t -> ((StreamProtocolException) t).notifyErrorText())
                .isEqualTo("Invalid message type");
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }
}
