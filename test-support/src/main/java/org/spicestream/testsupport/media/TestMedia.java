package org.spicestream.testsupport.media;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test streams made with Debian's ffmpeg at test time and cached on disk (nothing generated is
 * committed). The same {@link MediaSpec} always gives the same bytes.
 *
 * <p>Cache: {@value #CACHE_PROPERTY} or {@code <java.io.tmpdir>/spicestream-cache/media}, one
 * directory per spec and encoder command line and ffmpeg version, so a changed recipe never reads a
 * stale stream.
 */
public final class TestMedia {

    /** System property naming the cache directory. */
    public static final String CACHE_PROPERTY = "spicestream.mediaCache";

    // Bump when the recipe changes in a way the command line does not show.
    private static final int RECIPE_VERSION = 1;
    private static final String OUT = "@OUT@";
    /** JPEG quality scale 2 (best) .. 31: 3 gives ~39 dB against the source at small size. */
    private static final int MJPEG_QSCALE = 3;
    /** Bits per pixel per frame for the rate-controlled VPx encoders: ~31+ dB on testsrc2. */
    private static final double VPX_BITS_PER_PIXEL = 0.15;
    /** x264 / x265 constant rate factor of {@link MediaSpec.Quality#HIGH}. */
    private static final int HIGH_QUALITY_CRF = 14;
    /** JPEG quality scale of {@link MediaSpec.Quality#HIGH}. */
    private static final int HIGH_QUALITY_QSCALE = 2;

    private static final Logger LOG = LoggerFactory.getLogger(TestMedia.class);
    private static final Map<MediaSpec, EncodedStream> LOADED = new ConcurrentHashMap<>();

    private TestMedia() {}

    /** The stream for {@code spec}, from the cache or encoded now. */
    public static EncodedStream get(MediaSpec spec) {
        return LOADED.computeIfAbsent(spec, TestMedia::loadOrGenerate);
    }

    public static EncodedStream mjpeg(int width, int height, int frameCount) {
        return get(MediaSpec.of(VideoCodec.MJPEG, width, height, frameCount));
    }

    public static EncodedStream h264(int width, int height, int frameCount) {
        return get(MediaSpec.of(VideoCodec.H264, width, height, frameCount));
    }

    public static EncodedStream vp8(int width, int height, int frameCount) {
        return get(MediaSpec.of(VideoCodec.VP8, width, height, frameCount));
    }

    public static EncodedStream vp9(int width, int height, int frameCount) {
        return get(MediaSpec.of(VideoCodec.VP9, width, height, frameCount));
    }

    public static EncodedStream h265(int width, int height, int frameCount) {
        return get(MediaSpec.of(VideoCodec.H265, width, height, frameCount));
    }

    /** Encodes {@code spec} into {@code directory} (created), bypassing the cache. */
    public static EncodedStream generate(MediaSpec spec, Path directory) {
        try {
            Files.createDirectories(directory);
            long t0 = System.nanoTime();
            List<String> args = new ArrayList<>();
            for (String a : encodeArgs(spec)) {
                args.add(a.replace(OUT, directory.toString()));
            }
            if (spec.codec() == VideoCodec.MJPEG) {
                Files.createDirectories(directory.resolve("jpeg"));
            }
            Ffmpeg.run(args);
            EncodedStream stream = load(spec, directory);
            LOG.info("encoded {} in {} ms: {} bytes", spec, (System.nanoTime() - t0) / 1_000_000, stream.totalBytes());
            return stream;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Frame {@code index} of the lossless source pattern, as RGB. */
    public static RgbImage sourceFrame(MediaSpec spec, int index) {
        String name = String.format(Locale.ROOT, "source-%dx%d-%dfps%s", spec.width(), spec.height(), spec.fps(),
                spec.pattern() == MediaSpec.Pattern.FRAME_NUMBER ? "-numbered" : "");
        Path file = cacheRoot().resolve(name).resolve(index + ".rgb");
        return cachedImage(file, spec.width(), spec.height(), () -> List.of(
                "-hide_banner", "-nostdin", "-loglevel", "error",
                "-f", "lavfi", "-i", source(spec),
                "-vf", "select=eq(n\\," + index + "),format=rgb24",
                "-fps_mode", "passthrough", "-frames:v", "1",
                "-f", "rawvideo", "-pix_fmt", "rgb24", "-"));
    }

    static RgbImage decodedFrame(EncodedStream stream, int index) {
        MediaSpec spec = stream.spec();
        Path file = stream.directory().resolve("decoded").resolve(index + ".rgb");
        String toRgb = "scale=in_color_matrix=" + spec.colourMatrix().swscaleName()
                + ":in_range=" + (spec.fullRange() ? "pc" : "tv") + ",format=rgb24";
        return cachedImage(file, spec.width(), spec.height(), () -> {
            List<String> args = new ArrayList<>(List.of("-hide_banner", "-nostdin", "-loglevel", "error"));
            if (spec.codec() == VideoCodec.MJPEG) {
                args.addAll(List.of("-i", jpegFile(stream.directory(), index).toString(), "-vf", toRgb));
            } else {
                args.addAll(List.of("-f", demuxer(spec.codec()), "-i", streamFile(stream.directory(), spec.codec()).toString(),
                        "-vf", "select=eq(n\\," + index + ")," + toRgb, "-fps_mode", "passthrough"));
            }
            args.addAll(List.of("-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"));
            return args;
        });
    }

    /**
     * Peak signal-to-noise ratio in dB over all three channels of two same-sized RGB images
     * ({@code +Infinity} when identical). Rough scale for these streams: ~53 dB client picture vs
     * ffmpeg's decode of a JPEG, ~45 dB for the video codecs, ~31-40 dB against the lossless source,
     * ~25 dB when a colour matrix is wrong.
     */
    public static double psnr(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("sizes differ: " + a.width() + "x" + a.height() + " vs " + b.width() + "x" + b.height());
        }
        byte[] x = a.rgb();
        byte[] y = b.rgb();
        long sse = 0;
        for (int i = 0; i < x.length; i++) {
            int d = (x[i] & 0xff) - (y[i] & 0xff);
            sse += (long) d * d;
        }
        if (sse == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double mse = (double) sse / x.length;
        return 10 * Math.log10(255.0 * 255.0 / mse);
    }

    /** The cache directory (created). */
    public static Path cacheRoot() {
        String configured = System.getProperty(CACHE_PROPERTY);
        Path root = configured != null ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "spicestream-cache", "media");
        try {
            return Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ encoding recipe

    private static String source(MediaSpec spec) {
        String testsrc2 = "testsrc2=size=" + spec.width() + "x" + spec.height() + ":rate=" + spec.fps();
        return switch (spec.pattern()) {
            case TESTSRC2 -> testsrc2;
            case FRAME_NUMBER -> FrameNumberCode.ffmpegSource(testsrc2, spec.width(), spec.height(), spec.fps());
        };
    }

    /** The encoder command line; {@value #OUT} stands for the output directory. */
    static List<String> encodeArgs(MediaSpec spec) {
        MediaSpec.ColourMatrix matrix = spec.colourMatrix();
        String range = spec.fullRange() ? "pc" : "tv";
        String pixFmt = spec.fullRange() ? "yuvj420p" : "yuv420p";
        String gop = Integer.toString(spec.gop());
        List<String> a = new ArrayList<>(List.of(
                "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                "-f", "lavfi", "-i", source(spec), "-frames:v", Integer.toString(spec.frameCount()),
                // Render the pattern as RGB and convert with the matrix the stream is played with: the
                // RGB source is then exactly what sourceFrame() returns.
                "-vf", "format=rgb24,scale=out_color_matrix=" + matrix.swscaleName() + ":out_range=" + range + ",format=" + pixFmt));
        List<String> tags = List.of("-colorspace", matrix.colorspaceTag(), "-color_primaries", matrix.primariesTag(),
                "-color_trc", matrix.transferTag(), "-color_range", range);
        String bitrate = Long.toString(Math.round(spec.width() * (double) spec.height() * spec.fps() * VPX_BITS_PER_PIXEL));
        boolean high = spec.quality() == MediaSpec.Quality.HIGH;
        // HIGH: constant quality instead of a bit rate, about 39 dB against the source in every codec
        List<String> vpxRate = high ? List.of("-b:v", "0", "-crf", spec.codec() == VideoCodec.VP8 ? "8" : "20")
                : List.of("-b:v", bitrate);
        switch (spec.codec()) {
            case MJPEG -> a.addAll(List.of("-c:v", "mjpeg", "-q:v", Integer.toString(high ? HIGH_QUALITY_QSCALE : MJPEG_QSCALE),
                    "-f", "image2", "-start_number", "0", OUT + "/jpeg/%05d.jpg"));
            case H264 -> {
                // aud: the split points; repeat-headers: SPS/PPS before every IDR, so any IDR can start a
                // decoder; no B-frames: decode order = display order, one access unit per frame.
                a.addAll(List.of("-c:v", "libx264", "-preset", "veryfast", "-profile:v", "baseline", "-bf", "0",
                        "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
                        "-x264-params", "aud=1:repeat-headers=1:scenecut=0"));
                if (high) {
                    a.addAll(List.of("-crf", Integer.toString(HIGH_QUALITY_CRF)));
                }
                a.addAll(tags);
                a.addAll(List.of("-f", "h264", OUT + "/stream.h264"));
            }
            case H265 -> {
                // open-gop=0: key frames are IDR, not CRA (a CRA's leading pictures break a cold start).
                a.addAll(List.of("-c:v", "libx265", "-preset", "ultrafast",
                        "-x265-params", "log-level=error:aud=1:repeat-headers=1:keyint=" + gop + ":min-keyint=" + gop
                                + ":scenecut=0:bframes=0:open-gop=0"));
                if (high) {
                    a.addAll(List.of("-crf", Integer.toString(HIGH_QUALITY_CRF)));
                }
                a.addAll(tags);
                a.addAll(List.of("-f", "hevc", OUT + "/stream.h265"));
            }
            case VP8 -> {
                a.addAll(List.of("-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"));
                a.addAll(vpxRate);
                if (high) {
                    a.addAll(List.of("-qmin", "4", "-qmax", "12"));
                }
                a.addAll(List.of("-g", gop, "-keyint_min", gop, "-auto-alt-ref", "0", "-lag-in-frames", "0",
                        "-f", "ivf", OUT + "/stream.ivf"));
            }
            case VP9 -> {
                // No alt-ref / lag: every IVF frame is one shown frame, never a superframe with a hidden one.
                a.addAll(List.of("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1"));
                a.addAll(vpxRate);
                a.addAll(List.of("-g", gop, "-keyint_min", gop, "-auto-alt-ref", "0", "-lag-in-frames", "0"));
                a.addAll(tags);
                a.addAll(List.of("-f", "ivf", OUT + "/stream.ivf"));
            }
        }
        return a;
    }

    private static String demuxer(VideoCodec codec) {
        return switch (codec) {
            case MJPEG -> "image2";
            case H264 -> "h264";
            case H265 -> "hevc";
            case VP8, VP9 -> "ivf";
        };
    }

    private static Path streamFile(Path dir, VideoCodec codec) {
        return switch (codec) {
            case MJPEG -> dir.resolve("jpeg");
            case H264 -> dir.resolve("stream.h264");
            case H265 -> dir.resolve("stream.h265");
            case VP8, VP9 -> dir.resolve("stream.ivf");
        };
    }

    private static Path jpegFile(Path dir, int index) {
        return dir.resolve("jpeg").resolve(String.format(Locale.ROOT, "%05d.jpg", index));
    }

    // ------------------------------------------------------------------ cache

    private static EncodedStream loadOrGenerate(MediaSpec spec) {
        Path root = cacheRoot();
        Path dir = root.resolve(String.format(Locale.ROOT, "%s-%dx%d-%df-%dfps-g%d%s%s-%s", spec.codec().name().toLowerCase(Locale.ROOT),
                spec.width(), spec.height(), spec.frameCount(), spec.fps(), spec.gop(),
                spec.pattern() == MediaSpec.Pattern.FRAME_NUMBER ? "-numbered" : "",
                spec.quality() == MediaSpec.Quality.HIGH ? "-hq" : "", cacheKey(spec)));
        if (Files.exists(dir.resolve(".complete"))) {
            return load(spec, dir);
        }
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory(root, ".encoding-");
            generate(spec, tmp);
            Files.writeString(tmp.resolve("recipe.txt"), Ffmpeg.version() + "\n" + String.join(" ", encodeArgs(spec)) + "\n");
            Files.createFile(tmp.resolve(".complete"));
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                LOG.debug("{} was cached concurrently", spec);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IllegalStateException("cache " + root + " must allow atomic renames", e);
            }
            return load(spec, dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteTree(tmp);
        }
    }

    private static String cacheKey(MediaSpec spec) {
        return sha256Hex(RECIPE_VERSION + "\n" + Ffmpeg.version() + "\n" + String.join("\u0000", encodeArgs(spec))).substring(0, 12);
    }

    private static EncodedStream load(MediaSpec spec, Path dir) {
        try {
            List<byte[]> frames;
            if (spec.codec() == VideoCodec.MJPEG) {
                frames = new ArrayList<>();
                try (Stream<Path> files = Files.list(dir.resolve("jpeg"))) {
                    for (Path f : files.sorted(Comparator.comparing(Path::toString)).toList()) {
                        frames.add(Files.readAllBytes(f));
                    }
                }
            } else {
                byte[] all = Files.readAllBytes(streamFile(dir, spec.codec()));
                frames = switch (spec.codec()) {
                    case H264, H265 -> Bitstreams.splitAccessUnits(all, spec.codec());
                    default -> Bitstreams.ivfFrames(all);
                };
            }
            return new EncodedStream(spec, frames, dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private interface ArgsSupplier {
        List<String> get();
    }

    private static RgbImage cachedImage(Path file, int width, int height, ArgsSupplier ffmpegArgs) {
        try {
            if (!Files.exists(file)) {
                byte[] rgb = Ffmpeg.run(ffmpegArgs.get());
                if (rgb.length != width * height * 3) {
                    throw new IllegalStateException("ffmpeg gave " + rgb.length + " bytes for a " + width + "x" + height + " RGB frame");
                }
                Files.createDirectories(file.getParent());
                Path tmp = Files.createTempFile(file.getParent(), ".frame-", ".tmp");
                Files.write(tmp, rgb);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return new RgbImage(width, height, rgb);
            }
            return new RgbImage(width, height, Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256Hex(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
