package org.spicestream.testsupport.media;

/**
 * What test stream to make: ffmpeg's {@code testsrc2} pattern (colour bars, moving shapes, the frame
 * number drawn top left) encoded with {@code codec}, optionally with the frame number as
 * {@link FrameNumberCode} blocks over its top band.
 *
 * @param gop distance between key frames (fixed: no scene-cut key frames); ignored for MJPEG, where
 *     every frame is a key frame
 * @param pattern what the picture shows
 * @param quality how closely the encoded stream follows the source picture
 */
public record MediaSpec(VideoCodec codec, int width, int height, int frameCount, int fps, int gop, Pattern pattern,
        Quality quality) {

    /** The picture of a test stream. */
    public enum Pattern {
        /** ffmpeg's {@code testsrc2}. */
        TESTSRC2,
        /** {@code testsrc2} with the frame's index (0, 1, …) as {@link FrameNumberCode} blocks over the top band. */
        FRAME_NUMBER
    }

    /** How hard the encoder tries. */
    public enum Quality {
        /** Small streams: MJPEG ≈ 39 dB against the source, H.264 ≈ 36, VP8 / VP9 ≈ 31 (rate-controlled). */
        STANDARD,
        /** Quality-controlled encodes of 37 dB or more against the source in every codec (PSNR checks of a client's picture). */
        HIGH
    }

    /** Largest size the kit makes: a SPICE client allocates 4 bytes per pixel, tests stay small. */
    public static final int MAX_DIMENSION = 4096;

    public static final int DEFAULT_FPS = 30;
    public static final int DEFAULT_GOP = 30;

    public MediaSpec {
        if (codec == null) {
            throw new IllegalArgumentException("codec");
        }
        // 4:2:0 chroma needs even sizes; odd ones would be padded differently by each codec.
        if (width < 16 || height < 16 || width > MAX_DIMENSION || height > MAX_DIMENSION
                || width % 2 != 0 || height % 2 != 0) {
            throw new IllegalArgumentException("size must be even and within 16.." + MAX_DIMENSION + ": " + width + "x" + height);
        }
        if (frameCount < 1 || fps < 1 || gop < 1) {
            throw new IllegalArgumentException("frameCount, fps and gop must be positive");
        }
        if (pattern == null || quality == null) {
            throw new IllegalArgumentException("pattern and quality");
        }
        if (pattern == Pattern.FRAME_NUMBER && frameCount > FrameNumberCode.MAX_NUMBER + 1) {
            throw new IllegalArgumentException("the frame-number code holds at most " + (FrameNumberCode.MAX_NUMBER + 1) + " frames");
        }
    }

    /** The {@link Pattern#TESTSRC2} stream. */
    public MediaSpec(VideoCodec codec, int width, int height, int frameCount, int fps, int gop) {
        this(codec, width, height, frameCount, fps, gop, Pattern.TESTSRC2);
    }

    /** A {@link Quality#STANDARD} stream. */
    public MediaSpec(VideoCodec codec, int width, int height, int frameCount, int fps, int gop, Pattern pattern) {
        this(codec, width, height, frameCount, fps, gop, pattern, Quality.STANDARD);
    }

    /** {@code frameCount} frames at 30 fps with a key frame every 30 frames. */
    public static MediaSpec of(VideoCodec codec, int width, int height, int frameCount) {
        return new MediaSpec(codec, width, height, frameCount, DEFAULT_FPS, DEFAULT_GOP);
    }

    public MediaSpec withFps(int newFps) {
        return new MediaSpec(codec, width, height, frameCount, newFps, gop, pattern, quality);
    }

    public MediaSpec withGop(int newGop) {
        return new MediaSpec(codec, width, height, frameCount, fps, newGop, pattern, quality);
    }

    /** The same stream with each frame's index drawn as {@link FrameNumberCode} blocks (glass-to-glass tests). */
    public MediaSpec withFrameNumbers() {
        return new MediaSpec(codec, width, height, frameCount, fps, gop, Pattern.FRAME_NUMBER, quality);
    }

    /** The same stream encoded at {@code newQuality}. */
    public MediaSpec withQuality(Quality newQuality) {
        return new MediaSpec(codec, width, height, frameCount, fps, gop, pattern, newQuality);
    }

    /**
     * The YUV matrix of the stream. Decoders that ignore or lack colour tags assume BT.709 above 576
     * lines and BT.601 below (GStreamer does), so the kit uses that and tags it where the codec can:
     * converting with ffmpeg's default BT.601 and playing as BT.709 costs ~20 dB of PSNR. MJPEG is
     * JFIF (BT.601, full range) and VP8 cannot signal anything (BT.601).
     */
    public ColourMatrix colourMatrix() {
        return switch (codec) {
            case MJPEG, VP8 -> ColourMatrix.BT601;
            case H264, VP9, H265 -> height >= 720 ? ColourMatrix.BT709 : ColourMatrix.BT601;
        };
    }

    /** Full range (0-255) for JFIF, limited (16-235) for the video codecs. */
    public boolean fullRange() {
        return codec == VideoCodec.MJPEG;
    }

    @Override
    public String toString() {
        return codec + " " + width + "x" + height + " " + frameCount + "f@" + fps + " gop" + gop
                + (pattern == Pattern.FRAME_NUMBER ? " numbered" : "") + (quality == Quality.HIGH ? " hq" : "");
    }

    /** YUV colour matrices the kit uses, with ffmpeg's names for them. */
    public enum ColourMatrix {
        BT601("bt601", "smpte170m", "smpte170m", "smpte170m"),
        BT709("bt709", "bt709", "bt709", "bt709");

        private final String swscaleName;
        private final String colorspaceTag;
        private final String primariesTag;
        private final String transferTag;

        ColourMatrix(String swscaleName, String colorspaceTag, String primariesTag, String transferTag) {
            this.swscaleName = swscaleName;
            this.colorspaceTag = colorspaceTag;
            this.primariesTag = primariesTag;
            this.transferTag = transferTag;
        }

        /** The name {@code scale=in_color_matrix/out_color_matrix} takes. */
        public String swscaleName() {
            return swscaleName;
        }

        /** ffmpeg's {@code -colorspace} value. */
        public String colorspaceTag() {
            return colorspaceTag;
        }

        /** ffmpeg's {@code -color_primaries} value. */
        public String primariesTag() {
            return primariesTag;
        }

        /** ffmpeg's {@code -color_trc} value. */
        public String transferTag() {
            return transferTag;
        }
    }
}
