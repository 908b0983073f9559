package org.spicestream.reds;

import java.time.Duration;

/**
 * Bounds of the link stage (B44).
 *
 * @param maxLinkingConnections connections that have not finished the link stage at once
 * @param timeout time a connection may take from accept to link result
 * @param maxMessageSize upper bound of SpiceLinkHeader.size
 */
public record LinkConfig(int maxLinkingConnections, Duration timeout, int maxMessageSize) {

    /** Default bound on connections that have not finished the link stage. */
    public static final int DEFAULT_MAX_LINKING_CONNECTIONS = 64;
    /** Default time a connection may take from accept to link result. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Default (and reference) upper bound of SpiceLinkHeader.size (B44). */
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 4096;
    /** Smallest useful bound: a SpiceLinkMess without capabilities. */
    public static final int MIN_MESSAGE_SIZE = 18;

    public static final LinkConfig DEFAULT =
            new LinkConfig(DEFAULT_MAX_LINKING_CONNECTIONS, DEFAULT_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE);

    public LinkConfig {
        Checks.positive(maxLinkingConnections, "maxLinkingConnections");
        Checks.positive(timeout, "link timeout");
        if (maxMessageSize < MIN_MESSAGE_SIZE) {
            throw new IllegalArgumentException("maxMessageSize must be >= " + MIN_MESSAGE_SIZE);
        }
    }

    public LinkConfig withMaxLinkingConnections(int n) {
        return new LinkConfig(n, timeout, maxMessageSize);
    }

    public LinkConfig withTimeout(Duration newTimeout) {
        return new LinkConfig(maxLinkingConnections, newTimeout, maxMessageSize);
    }
}
