package org.spicestream.distribution;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
 * @param web browser (WebSocket, static files) and TLS options
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
        String demoWarning,
        Web web) {

    public Settings {
        devices = List.copyOf(devices);
    }

    /**
     * Browser and TLS options.
     *
     * @param webRoot directory served over HTTP on the SPICE port(s), or null
     * @param tlsPort TLS port on the listen host, or 0 for none
     * @param tlsCert PEM certificate chain (with tlsPort)
     * @param tlsKey PEM PKCS#8 private key (with tlsPort)
     * @param tlsCa PEM CA for client certificates, or null
     * @param secureChannels channel types that must use TLS
     * @param wsMaxFrameBytes largest WebSocket frame accepted from a client
     * @param httpTimeout time to send a complete HTTP request (WebSocket handshake)
     * @param wsAllowedOrigins allowed Origin values for WebSocket upgrades (empty: any)
     */
    public record Web(Path webRoot, int tlsPort, Path tlsCert, Path tlsKey, Path tlsCa, Set<Integer> secureChannels,
            int wsMaxFrameBytes, Duration httpTimeout, List<String> wsAllowedOrigins) {
        public Web {
            secureChannels = Set.copyOf(secureChannels);
            wsAllowedOrigins = List.copyOf(wsAllowedOrigins);
        }
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
                + ", metrics=" + metrics.map(HostPort::toString).orElse("off") + ", " + web + "}";
    }
}
