package org.spicestream.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.spicestream.testsupport.Vectors;

/** Every g2h vector decodes to exactly the documented messages or error, in every split and batched with others. */
class GuestVectorsTest {

    static byte[] v(String name) {
        return Vectors.bytes(name);
    }

    static Data data(byte[] bytes) {
        return new Data(Unpooled.wrappedBuffer(bytes));
    }

    /** Expected messages of the valid vectors (DATA payloads given as bytes). */
    static List<GuestMessage> expected(String name) {
        byte[] b = v(name);
        return switch (name) {
            case "g2h_capabilities_empty" -> List.of(Capabilities.NONE);
            case "g2h_capabilities_none_1byte" -> List.of(Capabilities.ofBitmap(new byte[] {0}));
            case "g2h_capabilities_quality_indicator" -> List.of(Capabilities.of(Capabilities.QUALITY_INDICATOR));
            case "g2h_format_mjpeg_640x480" -> List.of(new Format(640, 480, VideoCodec.MJPEG));
            case "g2h_format_h264_1920x1080" -> List.of(new Format(1920, 1080, VideoCodec.H264));
            case "g2h_data_15" -> List.of(data(Arrays.copyOfRange(b, 8, 23)));
            case "g2h_data_empty" -> List.of(data(new byte[0]));
            case "g2h_format_then_data_batched" -> List.of(
                    new Format(320, 240, VideoCodec.VP8), data(Arrays.copyOfRange(b, 28, 32)));
            case "g2h_cursor_set_alpha_2x2" -> List.of(
                    CursorSet.of(2, 2, 1, 1, CursorType.ALPHA, Arrays.copyOfRange(b, 20, 36)));
            case "g2h_cursor_set_color32_3x3" -> List.of(
                    CursorSet.of(3, 3, 0, 0, CursorType.COLOR32, Arrays.copyOfRange(b, 20, 58)));
            case "g2h_cursor_set_color24_2x2" -> List.of(
                    CursorSet.of(2, 2, 0, 0, CursorType.COLOR24, Arrays.copyOfRange(b, 20, 33)));
            case "g2h_cursor_move" -> List.of(new CursorMove(640, -3));
            case "g2h_device_display_info" -> List.of(new DeviceDisplayInfo(0, 0, "pci/0000/02.0"));
            case "g2h_quality_indicator" -> List.of(new QualityIndicator("framerate 30"));
            default -> null;
        };
    }

    static final Map<String, String> MALFORMED = Map.of(
            "g2h_cursor_set_too_short", "Protocol error",
            "g2h_invalid_type0", "Invalid message type",
            "g2h_data_too_large_header", "STREAM_DATA too large",
            "g2h_format_wrong_size", "Wrong size for StreamMsgFormat");

    static Stream<String> valid() {
        return Vectors.names("g2h_").stream().filter(n -> !MALFORMED.containsKey(n));
    }

    static Stream<String> malformed() {
        return MALFORMED.keySet().stream().sorted();
    }

    @Test
    void everyVectorIsCovered() {
        for (String name : Vectors.names("g2h_")) {
            assertThat(MALFORMED.containsKey(name) || expected(name) != null).as(name).isTrue();
        }
        assertThat(Vectors.names("g2h_")).hasSize(18);
    }

    @ParameterizedTest
    @MethodSource("valid")
    void decodesInOneRead(String name) {
        assertDecodes(name, new int[0]);
    }

    @ParameterizedTest
    @MethodSource("valid")
    void decodesInEveryTwoPartSplit(String name) {
        byte[] bytes = v(name);
        for (int cut = 1; cut < bytes.length; cut++) {
            assertDecodes(name, new int[] {cut});
        }
    }

    @ParameterizedTest
    @MethodSource("valid")
    void decodesByteByByte(String name) {
        try (Feed feed = new Feed()) {
            feed.writeByteByByte(v(name));
            assertThat(feed.errors).isEmpty();
            assertThat(feed.messages).isEqualTo(expected(name));
        }
    }

    @Test
    void allValidVectorsConcatenatedInOneReadAndByteByByte() {
        List<GuestMessage> expected = new ArrayList<>();
        ByteBuf all = Unpooled.buffer();
        valid().forEach(name -> {
            all.writeBytes(v(name));
            expected.addAll(expected(name));
        });
        byte[] bytes = ByteBufUtil.getBytes(all);
        all.release();
        try (Feed one = new Feed(); Feed single = new Feed()) {
            one.write(bytes);
            single.writeByteByByte(bytes);
            assertThat(one.errors).isEmpty();
            assertThat(single.errors).isEmpty();
            assertThat(one.messages).isEqualTo(expected);
            assertThat(single.messages).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void malformedGiveTheReferenceText(String name) {
        byte[] bytes = v(name);
        for (int cut = 0; cut < bytes.length; cut++) {
            try (Feed feed = new Feed()) {
                feed.write(bytes, cut == 0 ? new int[0] : new int[] {cut});
                assertThat(feed.messages).isEmpty();
                assertThat(feed.errorTexts()).as("%s cut at %d", name, cut).containsExactly(MALFORMED.get(name));
            }
        }
    }

    @Test
    void qualityIndicatorWithoutTheCapabilityIsAnInvalidType() {
        try (Feed feed = new Feed(StreamLimits.DEFAULT, false)) {
            feed.write(v("g2h_quality_indicator"));
            assertThat(feed.errorTexts()).containsExactly("Invalid message type");
        }
    }

    static Stream<Arguments> replies() {
        return Stream.of(
                Arguments.of("h2g_notify_error_invalid_type", "g2h_invalid_type0"),
                Arguments.of("h2g_notify_error_data_too_large", "g2h_data_too_large_header"),
                Arguments.of("h2g_notify_error_protocol_error", "g2h_cursor_set_too_short"));
    }

    @ParameterizedTest
    @MethodSource("replies")
    void theErrorEncodesToTheReferenceReply(String reply, String cause) {
        try (Feed feed = new Feed()) {
            feed.write(v(cause));
            StreamProtocolException e = (StreamProtocolException) feed.errors.get(0);
            ByteBuf encoded = StreamMessages.encode(NotifyError.of(e), Unpooled.buffer().alloc());
            try {
                assertThat(ByteBufUtil.getBytes(encoded)).isEqualTo(v(reply));
            } finally {
                encoded.release();
            }
        }
    }

    private static void assertDecodes(String name, int[] cuts) {
        try (Feed feed = new Feed()) {
            feed.write(v(name), cuts);
            assertThat(feed.errors).as("%s %s", name, Arrays.toString(cuts)).isEmpty();
            assertThat(feed.messages).as("%s %s", name, Arrays.toString(cuts)).isEqualTo(expected(name));
        }
    }
}
