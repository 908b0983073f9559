package org.spicestream.streamchannel;

import java.time.Duration;

/**
 * Tunables of a stream channel.
 *
 * @param keyFrameWaitLimit how long a client may wait for a key frame (after joining a running stream or after
 *     a dropped frame) before the guest stream is restarted with START_STOP to produce one
 */
public record StreamChannelConfig(Duration keyFrameWaitLimit) {

    public static final Duration DEFAULT_KEY_FRAME_WAIT_LIMIT = Duration.ofSeconds(2);

    public static final StreamChannelConfig DEFAULT =
            new StreamChannelConfig(DEFAULT_KEY_FRAME_WAIT_LIMIT);

    public StreamChannelConfig {
        if (keyFrameWaitLimit.isNegative()) {
            throw new IllegalArgumentException("invalid stream channel config");
        }
    }
}
