package org.spicestream.reds;

import java.time.Duration;

/**
 * Flow control of each client connection: send queue bounds, ACK window, pings, stuck detection.
 *
 * @param sendQueueMaxBytes per-connection send queue bound in bytes (message bodies and headers)
 * @param sendQueueMaxMessages per-connection send queue bound in messages
 * @param ackWindow ACK window W (spice-wire §6.3)
 * @param pingInterval interval between latency pings on an answered connection (B58)
 * @param stuckClientTimeout time a connection may stay blocked (queue not moving, or PONG outstanding) before it
 *     is closed
 */
public record ConnectionConfig(long sendQueueMaxBytes, int sendQueueMaxMessages, int ackWindow, Duration pingInterval,
        Duration stuckClientTimeout) {

    /** Default per-connection send queue bound in bytes. */
    public static final long DEFAULT_SEND_QUEUE_MAX_BYTES = 32L * 1024 * 1024;
    /** Default per-connection send queue bound in messages. */
    public static final int DEFAULT_SEND_QUEUE_MAX_MESSAGES = 1024;
    /** Default ACK window W (spice-wire §6.3, [ref] 20). */
    public static final int DEFAULT_ACK_WINDOW = 20;
    /** Default interval between latency pings ([ref] 15 s on main, B58). */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(15);
    /** Default stuck-connection timeout (B58: 30 s). */
    public static final Duration DEFAULT_STUCK_CLIENT_TIMEOUT = Duration.ofSeconds(30);

    public static final ConnectionConfig DEFAULT = new ConnectionConfig(DEFAULT_SEND_QUEUE_MAX_BYTES,
            DEFAULT_SEND_QUEUE_MAX_MESSAGES, DEFAULT_ACK_WINDOW, DEFAULT_PING_INTERVAL, DEFAULT_STUCK_CLIENT_TIMEOUT);

    public ConnectionConfig {
        Checks.positive(sendQueueMaxBytes, "sendQueueMaxBytes");
        Checks.positive(sendQueueMaxMessages, "sendQueueMaxMessages");
        Checks.positive(ackWindow, "ackWindow");
        Checks.positive(pingInterval, "pingInterval");
        Checks.positive(stuckClientTimeout, "stuckClientTimeout");
    }

    public ConnectionConfig withSendQueue(long maxBytes, int maxMessages) {
        return new ConnectionConfig(maxBytes, maxMessages, ackWindow, pingInterval, stuckClientTimeout);
    }

    public ConnectionConfig withAckWindow(int window) {
        return new ConnectionConfig(sendQueueMaxBytes, sendQueueMaxMessages, window, pingInterval, stuckClientTimeout);
    }

    public ConnectionConfig withPingInterval(Duration interval) {
        return new ConnectionConfig(sendQueueMaxBytes, sendQueueMaxMessages, ackWindow, interval, stuckClientTimeout);
    }

    public ConnectionConfig withStuckClientTimeout(Duration timeout) {
        return new ConnectionConfig(sendQueueMaxBytes, sendQueueMaxMessages, ackWindow, pingInterval, timeout);
    }
}
