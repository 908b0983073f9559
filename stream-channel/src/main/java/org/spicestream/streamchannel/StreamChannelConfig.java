package org.spicestream.streamchannel;

import java.time.Duration;

/**
 * Tunables of a stream channel.
 *
 * @param keyFrameWaitLimit how long a client may wait for a key frame (after joining a running stream or after
 *     a dropped frame) before the guest stream is restarted with START_STOP to produce one; also the shortest time
 *     between two such restarts. Zero: never restart.
 * @param maxVideoAge the oldest video a client is sent (R10): a frame goes to a client only while the frames it has
 *     not yet acknowledged are younger than this and the client's budget of frames in flight allows; otherwise the
 *     client skips to the next key frame. Zero: no age bound (only the send queue's bounds).
 */
public record StreamChannelConfig(Duration keyFrameWaitLimit, Duration maxVideoAge) {

    public static final Duration DEFAULT_KEY_FRAME_WAIT_LIMIT = Duration.ofSeconds(2);
    /** Default age bound: a slow viewer sees video at most about this old. */
    public static final Duration DEFAULT_MAX_VIDEO_AGE = Duration.ofMillis(200);
    /** Largest age bound accepted. */
    public static final Duration MAX_VIDEO_AGE_LIMIT = Duration.ofSeconds(60);

    public static final StreamChannelConfig DEFAULT =
            new StreamChannelConfig(DEFAULT_KEY_FRAME_WAIT_LIMIT, DEFAULT_MAX_VIDEO_AGE);

    public StreamChannelConfig {
        if (keyFrameWaitLimit == null || keyFrameWaitLimit.isNegative()) {
            throw new IllegalArgumentException("keyFrameWaitLimit must be >= 0, not " + keyFrameWaitLimit);
        }
        if (maxVideoAge == null || maxVideoAge.isNegative() || maxVideoAge.compareTo(MAX_VIDEO_AGE_LIMIT) > 0) {
            throw new IllegalArgumentException("maxVideoAge must be between 0 and " + MAX_VIDEO_AGE_LIMIT.toMillis()
                    + " ms, not " + maxVideoAge);
        }
    }

    /** The default age bound with this key-frame wait. */
    public StreamChannelConfig(Duration keyFrameWaitLimit) {
        this(keyFrameWaitLimit, DEFAULT_MAX_VIDEO_AGE);
    }

    public StreamChannelConfig withMaxVideoAge(Duration age) {
        return new StreamChannelConfig(keyFrameWaitLimit, age);
    }
}
