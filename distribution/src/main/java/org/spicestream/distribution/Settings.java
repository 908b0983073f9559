package org.spicestream.distribution;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.spicestream.reds.SessionPolicy;

/**
 * The validated configuration of one spice-streamd run (command line merged over the config file).
 *
 * @param listen SPICE listen address
 * @param password the ticket password (from the password file), or null
 * @param passwordExpiry when the password stops being accepted, or null
 * @param ticketingDisabled accept any client without a password
 * @param devices guest device URIs (the demo's comes on top when {@code demo})
 * @param demo run the embedded demo guest
 * @param sessionPolicy what a second client does to the first
 * @param sendQueueBytes per-connection send queue bound in bytes
 * @param sendQueueMessages per-connection send queue bound in messages
 * @param maxClientsPerChannel connections one channel accepts at once
 * @param maxSessions concurrent sessions (share policy)
 * @param keyFrameWait how long a client may wait for a key frame before the guest stream is restarted
 * @param maxFrameBytes largest DATA frame accepted from a guest
 * @param logLevel root log level
 * @param metrics where to serve /metrics, if anywhere
 * @param demoWarning why the demo runs without a password (logged at start), or null
 */
public record Settings(
        HostPort listen,
        char[] password,
        Instant passwordExpiry,
        boolean ticketingDisabled,
        List<URI> devices,
        boolean demo,
        SessionPolicy sessionPolicy,
        long sendQueueBytes,
        int sendQueueMessages,
        int maxClientsPerChannel,
        int maxSessions,
        Duration keyFrameWait,
        int maxFrameBytes,
        LogLevel logLevel,
        Optional<HostPort> metrics,
        String demoWarning) {

    public Settings {
        devices = List.copyOf(devices);
    }

    /** Root log levels {@code --log-level} accepts. */
    public enum LogLevel {
        TRACE, DEBUG, INFO, WARN, ERROR, OFF
    }

    @Override
    public String toString() {
        // never the password
        return "Settings{listen=" + listen + ", password=" + (password == null ? "none" : "set") + ", expiry="
                + passwordExpiry + ", ticketingDisabled=" + ticketingDisabled + ", devices=" + devices + ", demo="
                + demo + ", policy=" + sessionPolicy + ", sendQueueBytes=" + sendQueueBytes + ", sendQueueMessages="
                + sendQueueMessages + ", maxClients=" + maxClientsPerChannel + ", maxSessions=" + maxSessions
                + ", keyFrameWait=" + keyFrameWait + ", maxFrameBytes=" + maxFrameBytes + ", logLevel=" + logLevel
                + ", metrics=" + metrics.map(HostPort::toString).orElse("off") + "}";
    }
}
