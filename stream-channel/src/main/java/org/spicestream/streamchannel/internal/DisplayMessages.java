package org.spicestream.streamchannel.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.spicestream.streamchannel.StreamReport;

/**
 * Bodies of the display-channel messages a stream channel exchanges (spice-wire §9), little endian,
 * field by field (a Rect goes top, left, bottom, right on the wire).
 *
 * <p>Every encoder returns a freshly allocated body whose ownership passes to the caller. The frame
 * bytes of STREAM_DATA are never part of these bodies: {@link #streamDataHead} builds only the fixed
 * fields, and the shared payload is written after it without a copy.
 */
public final class DisplayMessages {

    // server -> client message types (spice-wire §9.1)
    public static final int MSG_MARK = 102;
    public static final int MSG_INVAL_ALL_PALETTES = 108;
    public static final int MSG_STREAM_CREATE = 122;
    public static final int MSG_STREAM_DATA = 123;
    public static final int MSG_STREAM_DESTROY = 125;
    public static final int MSG_DRAW_FILL = 302;
    public static final int MSG_SURFACE_CREATE = 314;
    public static final int MSG_SURFACE_DESTROY = 315;
    public static final int MSG_STREAM_DATA_SIZED = 316;
    public static final int MSG_MONITORS_CONFIG = 317;
    public static final int MSG_STREAM_ACTIVATE_REPORT = 319;

    // client -> server message types (spice-wire §9.3)
    public static final int MSGC_INIT = 101;
    public static final int MSGC_STREAM_REPORT = 102;
    public static final int MSGC_PREFERRED_COMPRESSION = 103;
    public static final int MSGC_GL_DRAW_DONE = 104;
    public static final int MSGC_PREFERRED_VIDEO_CODEC_TYPE = 105;

    /** Display channel capability bits (spice-wire §5.3). */
    public static final int CAP_SIZED_STREAM = 0;
    public static final int CAP_MONITORS_CONFIG = 1;
    public static final int CAP_STREAM_REPORT = 4;
    public static final int CAP_MULTI_CODEC = 8;
    public static final int CAP_PREF_VIDEO_CODEC_TYPE = 12;

    public static final int SURFACE_FORMAT_32_XRGB = 32;
    public static final int SURFACE_FLAG_PRIMARY = 1;
    public static final int SURFACE_FLAG_STREAMING_MODE = 2;
    public static final int STREAM_FLAG_TOP_DOWN = 1;

    /** Sizes of the fixed bodies, for allocation and for tests. */
    public static final int SURFACE_CREATE_SIZE = 20;
    public static final int MONITORS_CONFIG_SIZE = 4 + 28;
    public static final int DRAW_FILL_SIZE = 41;
    public static final int STREAM_CREATE_SIZE = 51;
    public static final int STREAM_DATA_HEAD_SIZE = 12;
    public static final int STREAM_DATA_SIZED_HEAD_SIZE = 36;
    public static final int STREAM_ACTIVATE_REPORT_SIZE = 16;
    public static final int STREAM_REPORT_SIZE = 32;

    private static final int CLIP_NONE = 0;
    private static final int BRUSH_SOLID = 1;
    private static final int ROP_OP_PUT = 0x8;

    private DisplayMessages() {}

    public static ByteBuf empty(ByteBufAllocator alloc) {
        return alloc.buffer(0, 0);
    }

    public static ByteBuf surfaceCreate(ByteBufAllocator alloc, int surfaceId, int width, int height, int flags) {
        ByteBuf b = alloc.buffer(SURFACE_CREATE_SIZE);
        b.writeIntLE(surfaceId).writeIntLE(width).writeIntLE(height).writeIntLE(SURFACE_FORMAT_32_XRGB).writeIntLE(flags);
        return b;
    }

    public static ByteBuf surfaceDestroy(ByteBufAllocator alloc, int surfaceId) {
        return alloc.buffer(4).writeIntLE(surfaceId);
    }

    /** One head covering the whole surface: count 1, max_allowed 1 (spice-wire §9.2). */
    public static ByteBuf monitorsConfig(ByteBufAllocator alloc, int surfaceId, int width, int height) {
        ByteBuf b = alloc.buffer(MONITORS_CONFIG_SIZE);
        b.writeShortLE(1).writeShortLE(1);
        b.writeIntLE(0).writeIntLE(surfaceId).writeIntLE(width).writeIntLE(height).writeIntLE(0).writeIntLE(0).writeIntLE(0);
        return b;
    }

    /** Solid black over the whole surface, OP_PUT, no mask (vector s2c_draw_fill_black). */
    public static ByteBuf drawFillBlack(ByteBufAllocator alloc, int surfaceId, int width, int height) {
        ByteBuf b = alloc.buffer(DRAW_FILL_SIZE);
        b.writeIntLE(surfaceId);
        writeRect(b, 0, 0, height, width);
        b.writeByte(CLIP_NONE);
        b.writeByte(BRUSH_SOLID).writeIntLE(0);
        b.writeShortLE(ROP_OP_PUT);
        b.writeByte(0).writeIntLE(0).writeIntLE(0).writeIntLE(0); // mask: flags, pos, bitmap pointer
        return b;
    }

    public static ByteBuf streamCreate(ByteBufAllocator alloc, int surfaceId, int streamId, int codec, int width, int height) {
        ByteBuf b = alloc.buffer(STREAM_CREATE_SIZE);
        b.writeIntLE(surfaceId).writeIntLE(streamId);
        b.writeByte(STREAM_FLAG_TOP_DOWN).writeByte(codec);
        b.writeLongLE(0); // stamp
        b.writeIntLE(width).writeIntLE(height); // stream size
        b.writeIntLE(width).writeIntLE(height); // source size
        writeRect(b, 0, 0, height, width);
        b.writeByte(CLIP_NONE);
        return b;
    }

    /** The fixed fields of STREAM_DATA; the frame bytes ({@code dataSize} of them) follow as a separate buffer. */
    public static ByteBuf streamDataHead(ByteBufAllocator alloc, int streamId, int mmTime, int dataSize) {
        return alloc.buffer(STREAM_DATA_HEAD_SIZE).writeIntLE(streamId).writeIntLE(mmTime).writeIntLE(dataSize);
    }

    /** The fixed fields of STREAM_DATA_SIZED (frame covers {@code width}×{@code height} at the origin). */
    public static ByteBuf streamDataSizedHead(
            ByteBufAllocator alloc, int streamId, int mmTime, int width, int height, int dataSize) {
        ByteBuf b = alloc.buffer(STREAM_DATA_SIZED_HEAD_SIZE);
        b.writeIntLE(streamId).writeIntLE(mmTime).writeIntLE(width).writeIntLE(height);
        writeRect(b, 0, 0, height, width);
        b.writeIntLE(dataSize);
        return b;
    }

    public static ByteBuf streamDestroy(ByteBufAllocator alloc, int streamId) {
        return alloc.buffer(4).writeIntLE(streamId);
    }

    public static ByteBuf streamActivateReport(
            ByteBufAllocator alloc, int streamId, int uniqueId, int maxWindowSize, int timeoutMs) {
        return alloc.buffer(STREAM_ACTIVATE_REPORT_SIZE)
                .writeIntLE(streamId).writeIntLE(uniqueId).writeIntLE(maxWindowSize).writeIntLE(timeoutMs);
    }

    private static void writeRect(ByteBuf b, int top, int left, int bottom, int right) {
        b.writeIntLE(top).writeIntLE(left).writeIntLE(bottom).writeIntLE(right);
    }

    /** Parses a client STREAM_REPORT body of at least {@link #STREAM_REPORT_SIZE} bytes (checked by the caller). */
    public static StreamReport parseStreamReport(ByteBuf body) {
        int i = body.readerIndex();
        return new StreamReport(
                body.getUnsignedIntLE(i),
                body.getUnsignedIntLE(i + 4),
                body.getUnsignedIntLE(i + 8),
                body.getUnsignedIntLE(i + 12),
                body.getUnsignedIntLE(i + 16),
                body.getUnsignedIntLE(i + 20),
                body.getIntLE(i + 24),
                body.getUnsignedIntLE(i + 28));
    }
}
