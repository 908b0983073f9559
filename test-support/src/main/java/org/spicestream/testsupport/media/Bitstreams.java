package org.spicestream.testsupport.media;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits encoder output into the one-frame-per-DATA units the stream-device protocol carries, and
 * tells key frames from the bits themselves (independently of the server's own detection, so that
 * tests can check it).
 */
public final class Bitstreams {

    public static final int H264_NAL_IDR = 5;
    public static final int H264_NAL_SPS = 7;
    public static final int H264_NAL_PPS = 8;
    public static final int H264_NAL_AUD = 9;
    public static final int H265_NAL_VPS = 32;
    public static final int H265_NAL_SPS = 33;
    public static final int H265_NAL_PPS = 34;
    public static final int H265_NAL_AUD = 35;
    /** H.265 IRAP pictures (BLA, IDR, CRA) are NAL types 16..21; 22..23 are reserved IRAP types. */
    public static final int H265_NAL_IRAP_FIRST = 16;
    public static final int H265_NAL_IRAP_LAST = 23;

    private static final int IVF_FILE_HEADER = 32;
    private static final int IVF_FRAME_HEADER = 12;

    private Bitstreams() {}

    /** One NAL unit of an Annex-B stream: where its start code begins and its type. */
    public record Nal(int start, int headerOffset, int type) {}

    /** The NAL units of an Annex-B buffer, in order ({@code start} includes a 4-byte start code's zero byte). */
    public static List<Nal> nals(byte[] annexB, VideoCodec codec) {
        checkAnnexB(codec);
        List<Nal> out = new ArrayList<>();
        for (int i = 0; i + 3 < annexB.length; i++) {
            if (annexB[i] == 0 && annexB[i + 1] == 0 && annexB[i + 2] == 1) {
                int start = i > 0 && annexB[i - 1] == 0 ? i - 1 : i;
                int header = i + 3;
                out.add(new Nal(start, header, nalType(annexB[header], codec)));
                i += 2;
            }
        }
        return out;
    }

    /** The NAL unit types in one access unit, in order. */
    public static List<Integer> nalTypes(byte[] accessUnit, VideoCodec codec) {
        return nals(accessUnit, codec).stream().map(Nal::type).toList();
    }

    /**
     * Splits an Annex-B elementary stream into access units at the access-unit delimiters the
     * encoder was told to write (the only boundary that needs no slice-header parsing).
     */
    public static List<byte[]> splitAccessUnits(byte[] annexB, VideoCodec codec) {
        int aud = codec == VideoCodec.H264 ? H264_NAL_AUD : H265_NAL_AUD;
        List<Integer> starts = new ArrayList<>();
        for (Nal nal : nals(annexB, codec)) {
            if (nal.type() == aud) {
                starts.add(nal.start());
            }
        }
        if (starts.isEmpty() || starts.get(0) != 0) {
            throw new IllegalArgumentException("stream does not start with an access-unit delimiter (encode with aud=1)");
        }
        List<byte[]> units = new ArrayList<>(starts.size());
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1) : annexB.length;
            units.add(Arrays.copyOfRange(annexB, starts.get(i), end));
        }
        return units;
    }

    /** The frames of an IVF file (VP8/VP9), without the 32-byte file and 12-byte frame headers. */
    public static List<byte[]> ivfFrames(byte[] ivf) {
        if (ivf.length < IVF_FILE_HEADER || ivf[0] != 'D' || ivf[1] != 'K' || ivf[2] != 'I' || ivf[3] != 'F') {
            throw new IllegalArgumentException("not an IVF file");
        }
        int headerSize = u16(ivf, 6);
        List<byte[]> frames = new ArrayList<>();
        int pos = headerSize;
        while (pos + IVF_FRAME_HEADER <= ivf.length) {
            int size = (int) u32(ivf, pos);
            pos += IVF_FRAME_HEADER;
            if (size < 0 || pos + size > ivf.length) {
                throw new IllegalArgumentException("truncated IVF frame at " + pos);
            }
            frames.add(Arrays.copyOfRange(ivf, pos, pos + size));
            pos += size;
        }
        return frames;
    }

    /**
     * Whether a decoder can start at this frame: every JPEG; a VP8/VP9 key frame; an H.264 access unit
     * with an IDR slice; an H.265 access unit with an IRAP picture.
     */
    public static boolean isKeyFrame(VideoCodec codec, byte[] frame) {
        return switch (codec) {
            case MJPEG -> true;
            case VP8 -> frame.length > 0 && (frame[0] & 1) == 0;
            case VP9 -> isVp9KeyFrame(frame);
            case H264 -> nalTypes(frame, codec).contains(H264_NAL_IDR);
            case H265 -> nalTypes(frame, codec).stream().anyMatch(t -> t >= H265_NAL_IRAP_FIRST && t <= H265_NAL_IRAP_LAST);
        };
    }

    /** True for a complete JPEG image: SOI at the start, EOI at the end. */
    public static boolean isJpeg(byte[] frame) {
        int n = frame.length;
        return n >= 4 && (frame[0] & 0xff) == 0xff && (frame[1] & 0xff) == 0xd8
                && (frame[n - 2] & 0xff) == 0xff && (frame[n - 1] & 0xff) == 0xd9;
    }

    // VP9 uncompressed header: frame_marker(2) profile_low(1) profile_high(1) [reserved_zero(1) if
    // profile 3] show_existing_frame(1) frame_type(1, 0 = key frame).
    private static boolean isVp9KeyFrame(byte[] frame) {
        if (frame.length == 0 || (frame[0] & 0xc0) != 0x80) {
            return false;
        }
        int b = frame[0] & 0xff;
        int profile = ((b >> 5) & 1) | ((b >> 4) & 1) << 1;
        int showExistingBit = profile == 3 ? 2 : 3;
        if (((b >> showExistingBit) & 1) == 1) {
            return false;
        }
        return ((b >> (showExistingBit - 1)) & 1) == 0;
    }

    private static int nalType(byte header, VideoCodec codec) {
        return codec == VideoCodec.H264 ? header & 0x1f : (header >> 1) & 0x3f;
    }

    private static void checkAnnexB(VideoCodec codec) {
        if (codec != VideoCodec.H264 && codec != VideoCodec.H265) {
            throw new IllegalArgumentException(codec + " is not an Annex-B codec");
        }
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8;
    }

    private static long u32(byte[] b, int off) {
        return (b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16 | (b[off + 3] & 0xffL) << 24;
    }
}
