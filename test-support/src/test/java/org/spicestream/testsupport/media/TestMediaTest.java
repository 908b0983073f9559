package org.spicestream.testsupport.media;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.spicestream.testsupport.ExternalTools;

/** The test media kit: frame splitting, key-frame flags, colour handling and determinism. */
class TestMediaTest {

    private static final int W = 320;
    private static final int H = 240;
    private static final int FRAMES = 61;

    @BeforeAll
    static void ffmpeg() {
        ExternalTools.require("ffmpeg", "ffmpeg");
    }

    @Test
    void mjpegFramesAreWholeJpegsThatDecodeToThePattern() {
        EncodedStream s = TestMedia.mjpeg(W, H, FRAMES);

        assertThat(s.frames()).hasSize(FRAMES).allMatch(Bitstreams::isJpeg);
        assertThat(s.keyFrameFlags()).containsOnly(true);
        // ffmpeg's decode against the lossless source: the JPEG quantiser is the only loss.
        assertThat(TestMedia.psnr(s.decodedFrame(45), s.sourceFrame(45))).isBetween(33.0, 60.0);
        // Frames differ (the pattern moves and prints its frame number).
        assertThat(TestMedia.psnr(s.decodedFrame(45), s.sourceFrame(10))).isLessThan(25.0);
    }

    @Test
    void h264AccessUnitsStartWithAudAndEveryGopStartsWithIdrAndParameterSets() {
        EncodedStream s = TestMedia.h264(W, H, FRAMES);

        assertThat(s.frames()).hasSize(FRAMES);
        assertThat(s.keyFrameIndexes()).containsExactly(0, 30, 60);
        for (int i = 0; i < FRAMES; i++) {
            List<Integer> types = Bitstreams.nalTypes(s.frame(i), VideoCodec.H264);
            assertThat(types.get(0)).as("frame %d starts with an AUD", i).isEqualTo(Bitstreams.H264_NAL_AUD);
            if (s.isKeyFrame(i)) {
                assertThat(types).as("frame %d", i).contains(Bitstreams.H264_NAL_SPS, Bitstreams.H264_NAL_PPS);
            } else {
                assertThat(types).as("frame %d", i).doesNotContain(Bitstreams.H264_NAL_IDR, Bitstreams.H264_NAL_SPS);
            }
        }
        assertThat(s.nextKeyFrame(1)).isEqualTo(30);
        assertThat(s.nextKeyFrame(61 - 1)).isEqualTo(60);
        assertThat(TestMedia.psnr(s.decodedFrame(31), s.sourceFrame(31))).isGreaterThan(30.0);
    }

    @Test
    void hdH264IsBt709AndDecodesWithTheRightColours() {
        EncodedStream s = TestMedia.h264(1280, 720, 2);

        assertThat(s.spec().colourMatrix()).isEqualTo(MediaSpec.ColourMatrix.BT709);
        // A BT.601/BT.709 mix-up would land near 25 dB.
        assertThat(TestMedia.psnr(s.decodedFrame(1), s.sourceFrame(1))).isGreaterThan(32.0);
    }

    @Test
    void vp8AndVp9AreRawFramesWithKeyFramesEveryGop() {
        EncodedStream vp8 = TestMedia.vp8(W, H, FRAMES);
        EncodedStream vp9 = TestMedia.vp9(W, H, FRAMES);

        assertThat(vp8.keyFrameIndexes()).containsExactly(0, 30, 60);
        assertThat(vp9.keyFrameIndexes()).containsExactly(0, 30, 60);
        // No IVF header left in front of the first frame: a VP8 key frame carries its start code at byte 3.
        assertThat(vp8.frame(0)).startsWith(vp8.frame(0)[0], vp8.frame(0)[1], vp8.frame(0)[2], (byte) 0x9d, (byte) 0x01, (byte) 0x2a);
        assertThat(TestMedia.psnr(vp8.decodedFrame(40), vp8.sourceFrame(40))).isGreaterThan(28.0);
        assertThat(TestMedia.psnr(vp9.decodedFrame(40), vp9.sourceFrame(40))).isGreaterThan(28.0);
    }

    @Test
    void h265KeyFramesAreIdrWithParameterSets() {
        EncodedStream s = TestMedia.h265(W, H, FRAMES);

        assertThat(s.keyFrameIndexes()).containsExactly(0, 30, 60);
        List<Integer> first = Bitstreams.nalTypes(s.frame(0), VideoCodec.H265);
        assertThat(first.get(0)).isEqualTo(Bitstreams.H265_NAL_AUD);
        assertThat(first).contains(Bitstreams.H265_NAL_VPS, Bitstreams.H265_NAL_SPS, Bitstreams.H265_NAL_PPS);
        assertThat(first).anyMatch(t -> t == 19 || t == 20); // IDR_W_RADL / IDR_N_LP, not CRA
    }

    @ParameterizedTest
    @EnumSource(VideoCodec.class)
    void numberedStreamsShowEachFramesIndexAfterDecodingInEveryCodec(VideoCodec codec) {
        EncodedStream s = TestMedia.get(MediaSpec.of(codec, W, H, FRAMES).withFrameNumbers());

        for (int i : List.of(0, 1, 29, 31, 45, FRAMES - 1)) {
            assertThat(FrameNumberCode.read(s.decodedFrame(i))).as("%s frame %d", codec, i).isEqualTo(i);
            assertThat(FrameNumberCode.read(s.sourceFrame(i))).as("source frame %d", i).isEqualTo(i);
        }
        // Below the band the picture is the moving pattern, encoded as well as without the code.
        int band = FrameNumberCode.bandHeight(H);
        RgbImage decoded = s.decodedFrame(45).crop(0, band, W, H - band);
        assertThat(TestMedia.psnr(decoded, s.sourceFrame(45).crop(0, band, W, H - band))).isGreaterThan(28.0);
        assertThat(TestMedia.psnr(decoded, s.sourceFrame(40).crop(0, band, W, H - band))).isLessThan(25.0);
    }

    @ParameterizedTest
    @EnumSource(VideoCodec.class)
    void highQualityStreamsFollowTheSourceClosely(VideoCodec codec) {
        EncodedStream s = TestMedia.get(MediaSpec.of(codec, W, H, 10).withFrameNumbers().withQuality(MediaSpec.Quality.HIGH));
        for (int i : List.of(0, 5, 9)) {
            assertThat(TestMedia.psnr(s.decodedFrame(i), s.sourceFrame(i))).as("%s frame %d", codec, i).isGreaterThan(37.0);
        }
        assertThat(s.spec().toString()).endsWith(" hq");
    }

    @Test
    void encodingIsDeterministic(@TempDir Path a, @TempDir Path b) {
        MediaSpec spec = MediaSpec.of(VideoCodec.H264, 64, 48, 5);

        EncodedStream first = TestMedia.generate(spec, a);
        EncodedStream second = TestMedia.generate(spec, b);

        for (int i = 0; i < spec.frameCount(); i++) {
            assertThat(second.frame(i)).as("frame %d", i).isEqualTo(first.frame(i));
        }
    }

    @Test
    void psnrOfIdenticalImagesIsInfiniteAndOfAKnownErrorIsExact() {
        byte[] px = new byte[4 * 4 * 3];
        RgbImage a = new RgbImage(4, 4, px.clone());
        byte[] off = px.clone();
        off[0] = 16; // one channel of one pixel off by 16: MSE = 256 / 48
        RgbImage b = new RgbImage(4, 4, off);

        assertThat(TestMedia.psnr(a, a)).isInfinite();
        assertThat(TestMedia.psnr(a, b)).isCloseTo(10 * Math.log10(255.0 * 255.0 * 48 / 256), org.assertj.core.data.Offset.offset(1e-9));
    }
}
