package org.spicestream.streamchannel.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** R1's key-frame rule on frames produced by real encoders (ffmpeg: x264, x265, libvpx), GOP of 5. */
class KeyFramesTest {

    static Stream<Arguments> encodedFrames() {
        Stream.Builder<Arguments> frames = Stream.builder();
        String[][] codecs = {{"h264", "3"}, {"h265", "5"}, {"vp8", "2"}, {"vp9", "4"}};
        for (String[] codec : codecs) {
            for (int k = 0; k < 6; k++) {
                boolean key = k == 0 || k == 5;
                frames.add(Arguments.of(codec[0] + "_" + k + (key ? "_key" : "_delta"), Integer.parseInt(codec[1]), key));
            }
        }
        return frames.build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodedFrames")
    void R1_keyFramesAreRecognisedInRealBitstreams(String fixture, int codec, boolean key) throws IOException {
        ByteBuf frame = Unpooled.wrappedBuffer(fixture(fixture));
        try {
            int reader = frame.readerIndex();
            assertThat(KeyFrames.isKeyFrame(codec, frame)).isEqualTo(key);
            assertThat(frame.readerIndex()).as("detection must not consume the frame").isEqualTo(reader);
        } finally {
            frame.release();
        }
    }

    @Test
    void R1_everyMjpegFrameIsAKeyFrame() {
        ByteBuf jpeg = Unpooled.wrappedBuffer(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xd9});
        try {
            assertThat(KeyFrames.isKeyFrame(1, jpeg)).isTrue();
        } finally {
            jpeg.release();
        }
    }

    @Test
    void R1_truncatedOrEmptyFramesAreNotKeyFrames() {
        for (int codec = 2; codec <= 5; codec++) {
            ByteBuf empty = Unpooled.buffer(0);
            ByteBuf tiny = Unpooled.wrappedBuffer(new byte[] {0, 0, 1});
            try {
                assertThat(KeyFrames.isKeyFrame(codec, empty)).as("codec %d empty", codec).isFalse();
                assertThat(KeyFrames.isKeyFrame(codec, tiny)).as("codec %d truncated", codec).isFalse();
            } finally {
                empty.release();
                tiny.release();
            }
        }
    }

    @Test
    void R1_h264IdrBehindAFourByteStartCodeAndParameterSets() {
        // AUD, SPS, PPS with 4-byte start codes, then an IDR slice with a 3-byte one
        byte[] au = HexFormat.of().parseHex("00000001091000000001674d001f0000000168ee3c8000000165888400");
        ByteBuf frame = Unpooled.wrappedBuffer(au);
        try {
            assertThat(KeyFrames.isKeyFrame(3, frame)).isTrue();
        } finally {
            frame.release();
        }
    }

    @Test
    void R1_h264ScanStopsAtTheFirstSlice() {
        // a non-IDR slice whose payload happens to contain bytes that look like an IDR NAL header
        byte[] au = HexFormat.of().parseHex("0000000109300000014100112233000001658888");
        ByteBuf frame = Unpooled.wrappedBuffer(au);
        try {
            assertThat(KeyFrames.isKeyFrame(3, frame)).isFalse();
        } finally {
            frame.release();
        }
    }

    @Test
    void R1_vp9ShowExistingFrameIsNotAKeyFrame() {
        // frame_marker 10, profile 0, show_existing_frame 1
        ByteBuf frame = Unpooled.wrappedBuffer(new byte[] {(byte) 0x88, 0x00});
        try {
            assertThat(KeyFrames.isKeyFrame(4, frame)).isFalse();
        } finally {
            frame.release();
        }
    }

    private static byte[] fixture(String name) throws IOException {
        try (InputStream in = KeyFramesTest.class.getResourceAsStream("/keyframes/" + name + ".hex")) {
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            String hex = text.lines().filter(l -> !l.startsWith("#")).reduce("", String::concat).trim();
            return HexFormat.of().parseHex(hex);
        }
    }
}
