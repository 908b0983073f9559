package org.spicestream.streamchannel;

import java.util.List;
import org.spicestream.protocol.VideoCodec;

/** What a stream channel asks of the device that feeds it. Called on the device's executor. */
public interface StreamChannelListener {

    /**
     * The codecs every connected client decodes changed (MJPEG always included, ascending; empty when the last
     * client left). {@code restart} asks for the stream to be restarted even if the list is unchanged.
     */
    void codecsChanged(List<VideoCodec> codecs, boolean restart);

    /** Stop or resume reading the guest: every client's queue is full, or one drained. */
    default void backPressure(boolean paused) {}

    /** A client reported on the stream (per client: frames, drops, last delay). */
    default void streamReport(String client, StreamReport report) {}
}
