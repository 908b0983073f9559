package org.spicestream.it.qemu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.spicestream.testsupport.media.EncodedStream;

/**
 * The stream-agent's input file: "SSTR", u32 version=1, u32 codec, u32 width, u32 height, u32 fps,
 * u32 frame count, u32 reserved; then per frame u32 size, u32 flags (bit 0 key frame), the bytes.
 * All little endian (see stream-agent.c).
 */
final class GuestStreamFile {

    static final int HEADER_SIZE = 32;
    static final int FRAME_HEADER_SIZE = 8;
    static final int VERSION = 1;

    private GuestStreamFile() {}

    static long size(EncodedStream stream) {
        return HEADER_SIZE + (long) FRAME_HEADER_SIZE * stream.frameCount() + stream.totalBytes();
    }

    /** Writes the file as the content of a cpio entry already started with {@link #size} bytes. */
    static void write(EncodedStream stream, Cpio out) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        h.put(new byte[] {'S', 'S', 'T', 'R'}).putInt(VERSION).putInt(stream.codec().wireValue())
                .putInt(stream.width()).putInt(stream.height()).putInt(stream.spec().fps())
                .putInt(stream.frameCount()).putInt(0);
        out.write(h.array());
        for (int i = 0; i < stream.frameCount(); i++) {
            byte[] frame = stream.frame(i);
            ByteBuffer fh = ByteBuffer.allocate(FRAME_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            fh.putInt(frame.length).putInt(stream.isKeyFrame(i) ? 1 : 0);
            out.write(fh.array());
            out.write(frame);
        }
    }
}
