package org.spicestream.streamchannel.internal;

import io.netty.buffer.ByteBuf;

/**
 * Tells whether an encoded frame can start decoding on its own (R1: a client joining a running stream
 * gets frames from the next key frame on).
 *
 * <p>Only the first bytes of a frame are inspected (NAL headers for H.264/H.265), never the whole
 * frame, and the buffer's indices are not changed. Codec values are the SPICE video codec type values
 * (1 MJPEG, 2 VP8, 3 H.264, 4 VP9, 5 H.265).
 */
public final class KeyFrames {

    /** Parameter sets and SEI precede the first slice; more NAL units than this before it is not a key frame. */
    static final int MAX_NAL_UNITS_SCANNED = 64;

    private static final int MJPEG = 1;
    private static final int VP8 = 2;
    private static final int H264 = 3;
    private static final int VP9 = 4;
    private static final int H265 = 5;

    private static final int H264_NAL_FIRST_VCL = 1;
    private static final int H264_NAL_IDR = 5;
    private static final int H265_NAL_LAST_VCL = 31;
    private static final int H265_NAL_FIRST_IRAP = 16;
    private static final int H265_NAL_LAST_IRAP = 21;

    private KeyFrames() {}

    /** True if {@code frame}, encoded with {@code codec}, is a key frame. Unknown codecs count as key frames. */
    public static boolean isKeyFrame(int codec, ByteBuf frame) {
        return switch (codec) {
            case MJPEG -> true;
            case VP8 -> isVp8KeyFrame(frame);
            case VP9 -> isVp9KeyFrame(frame);
            case H264 -> containsNal(frame, false);
            case H265 -> containsNal(frame, true);
            default -> true;
        };
    }

    /**
     * VP8 (RFC 6386 §9.1): the frame tag's bit 0 is 0 for a key frame, and a key frame carries the start
     * code 9d 01 2a after the 3-byte tag.
     */
    static boolean isVp8KeyFrame(ByteBuf frame) {
        int i = frame.readerIndex();
        if (frame.readableBytes() < 6) {
            return false;
        }
        return (frame.getByte(i) & 0x01) == 0
                && (frame.getByte(i + 3) & 0xff) == 0x9d
                && (frame.getByte(i + 4) & 0xff) == 0x01
                && (frame.getByte(i + 5) & 0xff) == 0x2a;
    }

    /**
     * VP9 uncompressed header (bit order MSB first): frame_marker (2 bits, 0b10), profile_low_bit,
     * profile_high_bit, a reserved zero bit for profile 3, show_existing_frame, frame_type (0 = key).
     * In a superframe the first frame is the one that decides whether decoding can start.
     */
    static boolean isVp9KeyFrame(ByteBuf frame) {
        if (!frame.isReadable()) {
            return false;
        }
        int b = frame.getByte(frame.readerIndex()) & 0xff;
        if ((b >> 6) != 0b10) {
            return false;
        }
        int profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
        int bit = 4; // position of the next field, counted from the MSB
        if (profile == 3) {
            bit++; // reserved_zero
        }
        boolean showExisting = ((b >> (7 - bit)) & 1) == 1;
        if (showExisting) {
            return false;
        }
        bit++;
        int frameType;
        if (bit <= 7) {
            frameType = (b >> (7 - bit)) & 1;
        } else {
            if (frame.readableBytes() < 2) {
                return false;
            }
            frameType = (frame.getByte(frame.readerIndex() + 1) >> 7) & 1;
        }
        return frameType == 0;
    }

    /**
     * Finds the first VCL (picture) NAL unit of an Annex B access unit and tells whether it is an H.264
     * IDR slice (type 5) or an H.265 IRAP picture (types 16..21). All slices of one access unit share
     * that property, so the scan stops at the first slice and never walks the picture data.
     */
    static boolean containsNal(ByteBuf frame, boolean h265) {
        int end = frame.writerIndex();
        int i = frame.readerIndex();
        int seen = 0;
        while (i + 3 < end && seen < MAX_NAL_UNITS_SCANNED) {
            // a 4-byte start code 00 00 00 01 ends with the same three bytes as 00 00 01
            if (frame.getByte(i) != 0 || frame.getByte(i + 1) != 0 || frame.getByte(i + 2) != 1) {
                i++;
                continue;
            }
            int header = frame.getByte(i + 3) & 0xff;
            seen++;
            if (h265) {
                int type = (header >> 1) & 0x3f;
                if (type <= H265_NAL_LAST_VCL) {
                    return type >= H265_NAL_FIRST_IRAP && type <= H265_NAL_LAST_IRAP;
                }
            } else {
                int type = header & 0x1f;
                if (type >= H264_NAL_FIRST_VCL && type <= H264_NAL_IDR) {
                    return type == H264_NAL_IDR;
                }
            }
            i += 3;
        }
        return false;
    }
}
