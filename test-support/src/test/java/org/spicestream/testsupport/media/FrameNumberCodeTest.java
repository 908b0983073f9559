package org.spicestream.testsupport.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The frame-number blocks: what is drawn reads back, what is not a code is rejected. */
class FrameNumberCodeTest {

    @ParameterizedTest
    @CsvSource({"320, 240", "640, 480", "1280, 720", "1920, 1080", "48, 16", "1366, 768"})
    void everyDrawnNumberReadsBack(int width, int height) {
        Random random = new Random(width * 31L + height);
        RgbImage image = noise(width, height, random);
        for (int i = 0; i < 200; i++) {
            int n = i < 3 ? new int[] {0, 1, FrameNumberCode.MAX_NUMBER}[i] : random.nextInt(FrameNumberCode.MAX_NUMBER + 1);
            FrameNumberCode.draw(image, n); // over the previous number: every block is redrawn
            assertThat(FrameNumberCode.read(image)).as("%d in %dx%d", n, width, height).isEqualTo(n);
        }
    }

    @Test
    void pixelsOutsideTheBandAreNotTouched() {
        RgbImage image = new RgbImage(320, 240, new byte[320 * 240 * 3]);
        java.util.Arrays.fill(image.rgb(), (byte) 0x42);
        FrameNumberCode.draw(image, 0xA5A5);
        int band = FrameNumberCode.bandHeight(240);
        assertThat(band).isEqualTo(30);
        assertThat(image.pixel(100, band)).isEqualTo(0x424242);
        assertThat(image.pixel(100, band - 1)).isIn(0, 0xffffff);
    }

    @Test
    void aPictureWithoutACodeIsRejected() {
        assertThat(FrameNumberCode.read(new RgbImage(64, 32, new byte[64 * 32 * 3]))).isEqualTo(FrameNumberCode.NO_CODE);
        byte[] white = new byte[64 * 32 * 3];
        java.util.Arrays.fill(white, (byte) 0xff);
        assertThat(FrameNumberCode.read(new RgbImage(64, 32, white))).isEqualTo(FrameNumberCode.NO_CODE);
        // A torn picture: the top row of one number over the bottom row of another.
        RgbImage a = new RgbImage(64, 32, new byte[64 * 32 * 3]);
        RgbImage b = new RgbImage(64, 32, new byte[64 * 32 * 3]);
        FrameNumberCode.draw(a, 6);
        FrameNumberCode.draw(b, 7);
        int r = FrameNumberCode.rowHeight(32);
        System.arraycopy(b.rgb(), r * 64 * 3, a.rgb(), r * 64 * 3, r * 64 * 3);
        assertThat(FrameNumberCode.read(a)).isEqualTo(FrameNumberCode.NO_CODE);
    }

    @Test
    void samplePointsFallInTheirOwnCell() {
        for (int w : new int[] {48, 320, 1280, 1366}) {
            for (int c = 0; c < FrameNumberCode.BITS; c++) {
                assertThat(FrameNumberCode.sampleX(w, c) * FrameNumberCode.BITS / w).isEqualTo(c);
            }
        }
        assertThat(FrameNumberCode.sampleY(720, 0)).isEqualTo(22);
        assertThat(FrameNumberCode.sampleY(720, 1)).isEqualTo(67);
    }

    @Test
    void numbersOutsideTheCodeAreRefused() {
        RgbImage image = new RgbImage(64, 32, new byte[64 * 32 * 3]);
        assertThatThrownBy(() -> FrameNumberCode.draw(image, FrameNumberCode.MAX_NUMBER + 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FrameNumberCode.draw(image, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    private static RgbImage noise(int width, int height, Random random) {
        byte[] px = new byte[width * height * 3];
        random.nextBytes(px);
        return new RgbImage(width, height, px);
    }
}
