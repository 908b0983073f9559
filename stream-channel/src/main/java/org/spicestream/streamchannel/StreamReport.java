package org.spicestream.streamchannel;

/** A client's STREAM_REPORT (spice-wire §9.7): how it decoded a window of frames of one stream. */
public record StreamReport(
        long streamId,
        long uniqueId,
        long startFrameMmTime,
        long endFrameMmTime,
        long numFrames,
        long numDrops,
        int lastFrameDelay,
        long audioDelay) {

    /** spice-gtk's "this stream does not exist here or cannot be decoded" report (R8). */
    public boolean isInvalidStream() {
        return numFrames == 0 && numDrops == 0xffffffffL;
    }
}
