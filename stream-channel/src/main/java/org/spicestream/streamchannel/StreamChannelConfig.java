package org.spicestream.streamchannel;

import java.time.Duration;

/**
 * Tunables of a stream channel.
 *
 * @param keyFrameWaitLimit how long a client may wait for a key frame (after joining a running stream or after
 *     a dropped frame) before the guest stream is restarted with START_STOP to produce one
 * @param pauseQueuedBytes a client counts as congested when this many bytes are queued to it; the guest is
 *     read again as soon as one congested client drains
 */
public record StreamChannelConfig(Duration keyFrameWaitLimit, long pauseQueuedBytes) {

    public static final Duration DEFAULT_KEY_FRAME_WAIT_LIMIT = Duration.ofSeconds(2);
    public static final long DEFAULT_PAUSE_QUEUED_BYTES = 4L * 1024 * 1024;

    public static final StreamChannelConfig DEFAULT =
            new StreamChannelConfig(DEFAULT_KEY_FRAME_WAIT_LIMIT, DEFAULT_PAUSE_QUEUED_BYTES);

    public StreamChannelConfig {
        if (keyFrameWaitLimit.isNegative() || pauseQueuedBytes < 1) {
            throw new IllegalArgumentException("invalid stream channel config");
        }
    }
}
