package org.spicestream.distribution.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * Draws the demo picture (java.awt, headless): colour bars, a bouncing box, a sweeping bar, a frame counter and
 * a clock, so a viewer sees at once that frames arrive and keep changing.
 */
public final class TestPattern {

    private static final Color[] BARS = {
        Color.WHITE, Color.YELLOW, Color.CYAN, Color.GREEN, Color.MAGENTA, Color.RED, Color.BLUE, Color.BLACK,
    };
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final int width;
    private final int height;
    private final BufferedImage image;
    private final Font big;
    private final Font small;

    public TestPattern(int width, int height) {
        this.width = width;
        this.height = height;
        this.image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        this.big = new Font(Font.MONOSPACED, Font.BOLD, Math.max(12, height / 12));
        this.small = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(10, height / 30));
    }

    /** Draws frame {@code n} at wall-clock {@code time} into the (reused) image and returns it. */
    public BufferedImage render(long n, LocalTime time) {
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            int barsHeight = height * 2 / 3;
            int barWidth = (width + BARS.length - 1) / BARS.length;
            for (int i = 0; i < BARS.length; i++) {
                g.setColor(BARS[i]);
                g.fillRect(i * barWidth, 0, barWidth, barsHeight);
            }
            // lower third: grey ramp
            for (int x = 0; x < width; x += 8) {
                int v = x * 255 / Math.max(1, width - 1);
                g.setColor(new Color(v, v, v));
                g.fillRect(x, barsHeight, 8, height - barsHeight);
            }
            // a vertical bar sweeping left to right once every 4 s at 30 fps
            int sweepX = (int) ((n * 4) % width);
            g.setColor(new Color(255, 128, 0));
            g.fillRect(sweepX, 0, Math.max(2, width / 160), height);

            // bouncing box
            int box = Math.max(16, height / 8);
            int bx = bounce(n * 5, width - box);
            int by = bounce(n * 3, barsHeight - box);
            g.setColor(Color.DARK_GRAY);
            g.fillRect(bx, by, box, box);
            g.setColor(Color.WHITE);
            g.setStroke(new BasicStroke(2f));
            g.drawRect(bx, by, box, box);

            // text panel
            int panelH = big.getSize() * 2 + small.getSize() + 24;
            int panelY = barsHeight - panelH / 2;
            g.setColor(new Color(0, 0, 0, 200));
            g.fillRect(width / 16, panelY, width - width / 8, panelH);
            g.setColor(Color.WHITE);
            g.setFont(small);
            g.drawString("spicestream demo guest - MJPEG " + width + "x" + height, width / 16 + 10,
                    panelY + small.getSize() + 4);
            g.setFont(big);
            g.drawString(String.format("frame %08d", n), width / 16 + 10, panelY + small.getSize() + big.getSize() + 8);
            g.drawString(CLOCK.format(time), width / 16 + 10, panelY + small.getSize() + big.getSize() * 2 + 12);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Position on a 0…range…0 triangle wave. */
    static int bounce(long t, int range) {
        if (range <= 0) {
            return 0;
        }
        long period = 2L * range;
        long p = Math.floorMod(t, period);
        return (int) (p <= range ? p : period - p);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }
}
