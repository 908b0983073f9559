package org.spicestream.distribution.config;

import java.time.Duration;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.MmTimeConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.streamchannel.StreamChannelConfig;

/**
 * The bounds of one VM's clients and guest streams.
 *
 * @param sendQueueBytes per-connection send queue bound in bytes
 * @param sendQueueMessages per-connection send queue bound in messages
 * @param maxClientsPerChannel connections one channel accepts at once
 * @param maxSessions concurrent sessions (share policy)
 * @param keyFrameWait how long a client may wait for a key frame before the guest stream is restarted (0 = never)
 * @param maxFrameBytes largest DATA frame accepted from a guest
 * @param latency starting and lowest latency of each session's multimedia clock (R9)
 * @param maxVideoAge oldest video a viewer is sent (R10); 0 = only the send queue's bounds
 */
public record VmLimits(long sendQueueBytes, int sendQueueMessages, int maxClientsPerChannel, int maxSessions,
        Duration keyFrameWait, int maxFrameBytes, Duration latency, Duration maxVideoAge) {

    public static final VmLimits DEFAULT = new VmLimits(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES,
            ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_MESSAGES, SessionConfig.DEFAULT_MAX_CLIENTS_PER_CHANNEL,
            SessionConfig.DEFAULT_MAX_SESSIONS, StreamChannelConfig.DEFAULT_KEY_FRAME_WAIT_LIMIT,
            StreamLimits.DATA_MAX_BYTES, MmTimeConfig.DEFAULT_LATENCY, StreamChannelConfig.DEFAULT_MAX_VIDEO_AGE);

    public VmLimits {
        positive(sendQueueBytes, "sendQueueBytes");
        positive(sendQueueMessages, "sendQueueMessages");
        positive(maxClientsPerChannel, "maxClientsPerChannel");
        positive(maxSessions, "maxSessions");
        if (keyFrameWait == null || keyFrameWait.isNegative()) {
            throw new IllegalArgumentException("keyFrameWait must be >= 0");
        }
        if (maxFrameBytes <= 0 || maxFrameBytes > StreamLimits.DATA_MAX_BYTES) {
            throw new IllegalArgumentException("maxFrameBytes must be between 1 and " + StreamLimits.DATA_MAX_BYTES);
        }
        // the records they become check their ranges
        MmTimeConfig.DEFAULT.withLatency(latency);
        StreamChannelConfig.DEFAULT.withMaxVideoAge(maxVideoAge);
    }

    private static void positive(long n, String name) {
        if (n <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, not " + n);
        }
    }
}
