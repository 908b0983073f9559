package org.spicestream.testsupport.media;

import java.util.Locale;

/**
 * A frame's number drawn into the picture as large black and white blocks, so that a client's screen can be read
 * back after any codec, scaling-free path and colour conversion (glass-to-glass measurements).
 *
 * <p>Layout for a picture of {@code W × H} pixels (all divisions are integer divisions, so that Java, Python and
 * JavaScript readers agree to the pixel):
 *
 * <ul>
 *   <li>The code is the top band of the picture: {@value #BITS} columns across the full width and 2 rows, each row
 *       {@code R = (H + 8) / 16} pixels high (band height {@code 2R}).
 *   <li>Row 0 column {@code c} (0 = left) is bit {@code 15 - c} of the number: white = 1, black = 0. Row 1 holds
 *       the complement (white = 0), so a torn, blank or foreign picture is rejected rather than misread.
 *   <li>A reader samples one pixel per cell, at {@code x = (2c + 1) * W / 32}, {@code y = r * R + R / 2}, takes its
 *       luma {@code (299 R + 587 G + 114 B) / 1000} and calls it white when above {@value #THRESHOLD}. The number is
 *       valid only if every column of row 1 is the opposite of row 0.
 * </ul>
 *
 * Numbers go from 0 to {@value #MAX_NUMBER}; a stream longer than that is looped by its player. ffmpeg draws the
 * same blocks with {@link #ffmpegSource}; {@link #draw} does it in Java.
 */
public final class FrameNumberCode {

    /** Bits of the number, one column each. */
    public static final int BITS = 16;
    /** Largest number the code holds. */
    public static final int MAX_NUMBER = (1 << BITS) - 1;
    /** What {@link #read} returns for a picture without a valid code. */
    public static final int NO_CODE = -1;
    /** Luma above this is white. */
    public static final int THRESHOLD = 128;
    /** Rows of cells: the number, then its complement. */
    public static final int ROWS = 2;

    /** The luma (0…255) of the pixel at (x, y) of some picture. */
    @FunctionalInterface
    public interface LumaSource {
        int luma(int x, int y);
    }

    private FrameNumberCode() {}

    /** Height {@code R} of one row of cells in a picture {@code height} pixels high. */
    public static int rowHeight(int height) {
        return Math.max(1, (height + 8) / 16);
    }

    /** Height of the whole band (both rows). */
    public static int bandHeight(int height) {
        return ROWS * rowHeight(height);
    }

    /** The x of the pixel a reader samples for {@code column}. */
    public static int sampleX(int width, int column) {
        return (2 * column + 1) * width / (2 * BITS);
    }

    /** The y of the pixel a reader samples for {@code row}. */
    public static int sampleY(int height, int row) {
        int r = rowHeight(height);
        return row * r + r / 2;
    }

    /** Luma of an 0xRRGGBB pixel, as readers compute it. */
    public static int luma(int rgb) {
        return (299 * (rgb >> 16 & 0xff) + 587 * (rgb >> 8 & 0xff) + 114 * (rgb & 0xff)) / 1000;
    }

    /** The number in a {@code width × height} picture read through {@code pixels}, or {@link #NO_CODE}. */
    public static int read(int width, int height, LumaSource pixels) {
        int number = 0;
        for (int c = 0; c < BITS; c++) {
            boolean bit = pixels.luma(sampleX(width, c), sampleY(height, 0)) > THRESHOLD;
            boolean complement = pixels.luma(sampleX(width, c), sampleY(height, 1)) > THRESHOLD;
            if (bit == complement) {
                return NO_CODE;
            }
            number = number << 1 | (bit ? 1 : 0);
        }
        return number;
    }

    /** The number shown in {@code image}, or {@link #NO_CODE}. */
    public static int read(RgbImage image) {
        return read(image.width(), image.height(), (x, y) -> luma(image.pixel(x, y)));
    }

    /** Draws {@code number}'s blocks over the top band of {@code image} (in place). */
    public static void draw(RgbImage image, int number) {
        checkNumber(number);
        int w = image.width();
        int r = rowHeight(image.height());
        byte[] rgb = image.rgb();
        for (int y = 0; y < ROWS * r && y < image.height(); y++) {
            int row = y / r;
            for (int x = 0; x < w; x++) {
                int column = x * BITS / w;
                boolean bit = (number >> (BITS - 1 - column) & 1) == 1;
                byte v = (byte) (bit ^ row == 1 ? 0xff : 0);
                int i = (y * w + x) * 3;
                rgb[i] = v;
                rgb[i + 1] = v;
                rgb[i + 2] = v;
            }
        }
    }

    /**
     * An ffmpeg lavfi source graph (for {@code -f lavfi -i}) of {@code background} (another lavfi source, e.g.
     * {@code testsrc2=size=1280x720:rate=30}) with frame {@code n}'s number drawn over it, as RGB. {@code n} counts
     * from 0 at the first frame.
     */
    public static String ffmpegSource(String background, int width, int height, int fps) {
        String bit = "bitand(floor(N/pow(2\\,15-X))\\,1)";
        // The background is made as YUV 4:2:0 first, as lavfi makes a plain testsrc2, so that its sharp edges
        // sit where chroma subsampling keeps them. geq draws the 16x2 cells; neighbour scaling makes them the
        // blocks of the layout above (each sample point inside its own block).
        return String.format(Locale.ROOT,
                "%s,format=yuv420p,format=rgb24[bg];"
                        + "nullsrc=size=%dx%d:rate=%d,format=gray,geq=lum='if(eq(Y\\,0)\\,255*%s\\,255-255*%s)',"
                        + "scale=%d:%d:flags=neighbor,format=rgb24[code];"
                        + "[bg][code]overlay=x=0:y=0:format=rgb:eof_action=endall,format=rgb24",
                background, BITS, ROWS, fps, bit, bit, width, bandHeight(height));
    }

    private static void checkNumber(int number) {
        if (number < 0 || number > MAX_NUMBER) {
            throw new IllegalArgumentException("frame number " + number + " outside 0…" + MAX_NUMBER);
        }
    }
}
