package org.spicestream.reds;

import java.util.Objects;

/**
 * Who may be connected at once.
 *
 * @param policy what a second client does to the first (B51)
 * @param maxSessions concurrent sessions in {@link SessionPolicy#SHARE} mode
 * @param maxClientsPerChannel connections one channel accepts at once
 */
public record SessionConfig(SessionPolicy policy, int maxSessions, int maxClientsPerChannel) {

    /** Default session policy: the reference's single client (B51). */
    public static final SessionPolicy DEFAULT_POLICY = SessionPolicy.REPLACE;
    /** Default number of concurrent sessions in {@link SessionPolicy#SHARE} mode. */
    public static final int DEFAULT_MAX_SESSIONS = 16;
    /** Default number of connections one channel accepts at once. */
    public static final int DEFAULT_MAX_CLIENTS_PER_CHANNEL = 16;

    public static final SessionConfig DEFAULT =
            new SessionConfig(DEFAULT_POLICY, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_CLIENTS_PER_CHANNEL);

    public SessionConfig {
        Objects.requireNonNull(policy, "policy");
        Checks.positive(maxSessions, "maxSessions");
        Checks.positive(maxClientsPerChannel, "maxClientsPerChannel");
    }

    public SessionConfig withPolicy(SessionPolicy newPolicy) {
        return new SessionConfig(newPolicy, maxSessions, maxClientsPerChannel);
    }

    public SessionConfig withMaxSessions(int n) {
        return new SessionConfig(policy, n, maxClientsPerChannel);
    }

    public SessionConfig withMaxClientsPerChannel(int n) {
        return new SessionConfig(policy, maxSessions, n);
    }
}
