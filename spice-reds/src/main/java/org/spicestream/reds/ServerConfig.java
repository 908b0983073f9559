package org.spicestream.reds;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** Immutable configuration of a {@link SpiceServer}; build it with {@link #builder()}. */
public final class ServerConfig {

    /** Default listen host (loopback only). */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Default SPICE port. */
    public static final int DEFAULT_PORT = 5900;
    /** Passwords longer than this (UTF-8 bytes) are refused at configuration (B48, SPICE_MAX_PASSWORD_LENGTH). */
    public static final int MAX_PASSWORD_BYTES = 60;
    /** Default bound on connections that have not finished the link stage. */
    public static final int DEFAULT_MAX_LINKING_CONNECTIONS = 64;
    /** Default time a connection may take from accept to link result. */
    public static final Duration DEFAULT_LINK_TIMEOUT = Duration.ofSeconds(10);
    /** Default (and reference) upper bound of SpiceLinkHeader.size (B44). */
    public static final int DEFAULT_MAX_LINK_MESSAGE_SIZE = 4096;
    /** Default number of connections one channel accepts at once. */
    public static final int DEFAULT_MAX_CLIENTS_PER_CHANNEL = 16;
    /** Default number of concurrent sessions in {@link SessionPolicy#SHARE} mode. */
    public static final int DEFAULT_MAX_SESSIONS = 16;
    /** Default per-connection send queue bound in bytes (message bodies). */
    public static final long DEFAULT_SEND_QUEUE_MAX_BYTES = 32L * 1024 * 1024;
    /** Default per-connection send queue bound in messages. */
    public static final int DEFAULT_SEND_QUEUE_MAX_MESSAGES = 1024;
    /** Default ACK window W (spice-wire §6.3, [ref] 20). */
    public static final int DEFAULT_ACK_WINDOW = 20;
    /** Default interval between latency pings on an answered connection ([ref] 15 s on main, B58). */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(15);
    /** Default time a connection may stay blocked (queue not moving, or PONG outstanding) before it is closed (B58: 30 s). */
    public static final Duration DEFAULT_STUCK_CLIENT_TIMEOUT = Duration.ofSeconds(30);
    /** Default session policy: the reference's single client (B51). */
    public static final SessionPolicy DEFAULT_SESSION_POLICY = SessionPolicy.REPLACE;
    /** Default bound of an HTTP request line (WebSocket handshake or static file request). */
    public static final int DEFAULT_MAX_HTTP_INITIAL_LINE = 4096;
    /** Default bound of all HTTP request header lines together. */
    public static final int DEFAULT_MAX_HTTP_HEADER_SIZE = 8192;
    /** Default time from the first HTTP byte to a complete request; the connection is closed after it. */
    public static final Duration DEFAULT_HTTP_REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** Default bound of one incoming WebSocket frame's payload (client messages are small; html5 sends at most a few KiB). */
    public static final int DEFAULT_MAX_WEBSOCKET_FRAME_SIZE = 64 * 1024;
    /** Default bound of a static file served from the web root (spice-html5's largest file is 1.7 MB). */
    public static final long DEFAULT_MAX_STATIC_FILE_SIZE = 8L * 1024 * 1024;

    private final InetSocketAddress listenAddress;
    private final byte[] password;
    private final Instant passwordExpiry;
    private final boolean ticketingDisabled;
    private final SessionPolicy sessionPolicy;
    private final int maxLinkingConnections;
    private final Duration linkTimeout;
    private final int maxLinkMessageSize;
    private final int maxClientsPerChannel;
    private final int maxSessions;
    private final long sendQueueMaxBytes;
    private final int sendQueueMaxMessages;
    private final int ackWindow;
    private final Duration pingInterval;
    private final Duration stuckClientTimeout;
    private final InputSink inputSink;
    private final boolean clientMouseModeAllowed;
    private final Path webRoot;
    private final int maxHttpInitialLine;
    private final int maxHttpHeaderSize;
    private final Duration httpRequestTimeout;
    private final int maxWebSocketFrameSize;
    private final Set<String> webSocketAllowedOrigins;
    private final long maxStaticFileSize;
    private final TlsConfig tls;
    private final Set<Integer> secureChannels;

    private ServerConfig(Builder b) {
        this.listenAddress = b.listenAddress;
        this.password = b.password;
        this.passwordExpiry = b.passwordExpiry;
        this.ticketingDisabled = b.ticketingDisabled;
        this.sessionPolicy = b.sessionPolicy;
        this.maxLinkingConnections = b.maxLinkingConnections;
        this.linkTimeout = b.linkTimeout;
        this.maxLinkMessageSize = b.maxLinkMessageSize;
        this.maxClientsPerChannel = b.maxClientsPerChannel;
        this.maxSessions = b.maxSessions;
        this.sendQueueMaxBytes = b.sendQueueMaxBytes;
        this.sendQueueMaxMessages = b.sendQueueMaxMessages;
        this.ackWindow = b.ackWindow;
        this.pingInterval = b.pingInterval;
        this.stuckClientTimeout = b.stuckClientTimeout;
        this.inputSink = b.inputSink;
        this.clientMouseModeAllowed = b.clientMouseModeAllowed;
        this.webRoot = b.webRoot;
        this.maxHttpInitialLine = b.maxHttpInitialLine;
        this.maxHttpHeaderSize = b.maxHttpHeaderSize;
        this.httpRequestTimeout = b.httpRequestTimeout;
        this.maxWebSocketFrameSize = b.maxWebSocketFrameSize;
        this.webSocketAllowedOrigins = Set.copyOf(b.webSocketAllowedOrigins);
        this.maxStaticFileSize = b.maxStaticFileSize;
        this.tls = b.tls;
        this.secureChannels = Set.copyOf(b.secureChannels);
        if (!secureChannels.isEmpty() && tls == null) {
            throw new IllegalArgumentException("secure channels " + secureChannels + " need a TLS listener (tls(...))");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder initialised from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.listenAddress = listenAddress;
        b.password = password;
        b.passwordExpiry = passwordExpiry;
        b.ticketingDisabled = ticketingDisabled;
        b.sessionPolicy = sessionPolicy;
        b.maxLinkingConnections = maxLinkingConnections;
        b.linkTimeout = linkTimeout;
        b.maxLinkMessageSize = maxLinkMessageSize;
        b.maxClientsPerChannel = maxClientsPerChannel;
        b.maxSessions = maxSessions;
        b.sendQueueMaxBytes = sendQueueMaxBytes;
        b.sendQueueMaxMessages = sendQueueMaxMessages;
        b.ackWindow = ackWindow;
        b.pingInterval = pingInterval;
        b.stuckClientTimeout = stuckClientTimeout;
        b.inputSink = inputSink;
        b.clientMouseModeAllowed = clientMouseModeAllowed;
        b.webRoot = webRoot;
        b.maxHttpInitialLine = maxHttpInitialLine;
        b.maxHttpHeaderSize = maxHttpHeaderSize;
        b.httpRequestTimeout = httpRequestTimeout;
        b.maxWebSocketFrameSize = maxWebSocketFrameSize;
        b.webSocketAllowedOrigins = new TreeSet<>(webSocketAllowedOrigins);
        b.maxStaticFileSize = maxStaticFileSize;
        b.tls = tls;
        b.secureChannels = new TreeSet<>(secureChannels);
        return b;
    }

    public InetSocketAddress listenAddress() {
        return listenAddress;
    }

    /** Whether a password is configured. */
    public boolean hasPassword() {
        return password != null;
    }

    /** A copy of the password's UTF-8 bytes, or null. */
    public byte[] passwordBytes() {
        return password == null ? null : password.clone();
    }

    public Instant passwordExpiry() {
        return passwordExpiry;
    }

    public boolean ticketingDisabled() {
        return ticketingDisabled;
    }

    public SessionPolicy sessionPolicy() {
        return sessionPolicy;
    }

    public int maxLinkingConnections() {
        return maxLinkingConnections;
    }

    public Duration linkTimeout() {
        return linkTimeout;
    }

    public int maxLinkMessageSize() {
        return maxLinkMessageSize;
    }

    public int maxClientsPerChannel() {
        return maxClientsPerChannel;
    }

    public int maxSessions() {
        return maxSessions;
    }

    public long sendQueueMaxBytes() {
        return sendQueueMaxBytes;
    }

    public int sendQueueMaxMessages() {
        return sendQueueMaxMessages;
    }

    public int ackWindow() {
        return ackWindow;
    }

    public Duration pingInterval() {
        return pingInterval;
    }

    public Duration stuckClientTimeout() {
        return stuckClientTimeout;
    }

    public InputSink inputSink() {
        return inputSink;
    }

    /** Whether clients may switch to CLIENT mouse mode (absolute positions), B56. */
    public boolean clientMouseModeAllowed() {
        return clientMouseModeAllowed;
    }

    /** Directory served over HTTP on the SPICE port(s) (e.g. spice-html5), or null: no static files. */
    public Path webRoot() {
        return webRoot;
    }

    public int maxHttpInitialLine() {
        return maxHttpInitialLine;
    }

    public int maxHttpHeaderSize() {
        return maxHttpHeaderSize;
    }

    public Duration httpRequestTimeout() {
        return httpRequestTimeout;
    }

    public int maxWebSocketFrameSize() {
        return maxWebSocketFrameSize;
    }

    /** Origins a WebSocket upgrade may come from (exact match on the Origin header); empty = any origin. */
    public Set<String> webSocketAllowedOrigins() {
        return webSocketAllowedOrigins;
    }

    public long maxStaticFileSize() {
        return maxStaticFileSize;
    }

    /** The TLS listener, or null (plain port only). */
    public TlsConfig tls() {
        return tls;
    }

    /** Channel types ({@link SpiceChannelType}) that must be linked over TLS; a plain link gets NEED_SECURED (§3.8). */
    public Set<Integer> secureChannels() {
        return secureChannels;
    }

    @Override
    public String toString() {
        return "ServerConfig{listen=" + listenAddress + ", password=" + (password == null ? "none" : "set")
                + ", expiry=" + passwordExpiry + ", ticketingDisabled=" + ticketingDisabled + ", policy=" + sessionPolicy
                + ", ackWindow=" + ackWindow + ", webRoot=" + webRoot + ", tls=" + tls + ", secureChannels=" + secureChannels + "}";
    }

    /** Builder with the named defaults. */
    public static final class Builder {
        private InetSocketAddress listenAddress = new InetSocketAddress(DEFAULT_HOST, DEFAULT_PORT);
        private byte[] password;
        private Instant passwordExpiry;
        private boolean ticketingDisabled;
        private SessionPolicy sessionPolicy = DEFAULT_SESSION_POLICY;
        private int maxLinkingConnections = DEFAULT_MAX_LINKING_CONNECTIONS;
        private Duration linkTimeout = DEFAULT_LINK_TIMEOUT;
        private int maxLinkMessageSize = DEFAULT_MAX_LINK_MESSAGE_SIZE;
        private int maxClientsPerChannel = DEFAULT_MAX_CLIENTS_PER_CHANNEL;
        private int maxSessions = DEFAULT_MAX_SESSIONS;
        private long sendQueueMaxBytes = DEFAULT_SEND_QUEUE_MAX_BYTES;
        private int sendQueueMaxMessages = DEFAULT_SEND_QUEUE_MAX_MESSAGES;
        private int ackWindow = DEFAULT_ACK_WINDOW;
        private Duration pingInterval = DEFAULT_PING_INTERVAL;
        private Duration stuckClientTimeout = DEFAULT_STUCK_CLIENT_TIMEOUT;
        private InputSink inputSink = InputSink.logging();
        private boolean clientMouseModeAllowed;
        private Path webRoot;
        private int maxHttpInitialLine = DEFAULT_MAX_HTTP_INITIAL_LINE;
        private int maxHttpHeaderSize = DEFAULT_MAX_HTTP_HEADER_SIZE;
        private Duration httpRequestTimeout = DEFAULT_HTTP_REQUEST_TIMEOUT;
        private int maxWebSocketFrameSize = DEFAULT_MAX_WEBSOCKET_FRAME_SIZE;
        private Set<String> webSocketAllowedOrigins = new TreeSet<>();
        private long maxStaticFileSize = DEFAULT_MAX_STATIC_FILE_SIZE;
        private TlsConfig tls;
        private Set<Integer> secureChannels = new TreeSet<>();

        private Builder() {}

        /** Serve static files from this directory (null: none); WebSocket works without it. */
        public Builder webRoot(Path directory) {
            this.webRoot = directory == null ? null : directory.toAbsolutePath().normalize();
            return this;
        }

        public Builder maxHttpInitialLine(int bytes) {
            this.maxHttpInitialLine = positive(bytes, "maxHttpInitialLine");
            return this;
        }

        public Builder maxHttpHeaderSize(int bytes) {
            this.maxHttpHeaderSize = positive(bytes, "maxHttpHeaderSize");
            return this;
        }

        public Builder httpRequestTimeout(Duration timeout) {
            this.httpRequestTimeout = positive(timeout, "httpRequestTimeout");
            return this;
        }

        public Builder maxWebSocketFrameSize(int bytes) {
            this.maxWebSocketFrameSize = positive(bytes, "maxWebSocketFrameSize");
            return this;
        }

        /** Allowed Origin header values for WebSocket upgrades, e.g. {@code http://host:5900}; empty = any. */
        public Builder webSocketAllowedOrigins(Collection<String> origins) {
            this.webSocketAllowedOrigins = new TreeSet<>(origins);
            return this;
        }

        public Builder maxStaticFileSize(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("maxStaticFileSize must be > 0");
            }
            this.maxStaticFileSize = bytes;
            return this;
        }

        /** Adds a TLS listener (null: none). */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        /** Channel types that must use TLS (see {@link SpiceChannelType#parseList}). */
        public Builder secureChannels(Collection<Integer> channelTypes) {
            this.secureChannels = new TreeSet<>(channelTypes);
            return this;
        }

        public Builder listenAddress(InetSocketAddress address) {
            this.listenAddress = Objects.requireNonNull(address);
            return this;
        }

        /** Listen on {@code host:port}; port 0 picks a free port (tests). */
        public Builder listen(String host, int port) {
            return listenAddress(new InetSocketAddress(host, port));
        }

        /** Password (null = none: every ticket is refused unless ticketing is disabled, B47). */
        public Builder password(String password) {
            return password(password == null ? null : password.toCharArray());
        }

        public Builder password(char[] password) {
            if (password == null) {
                this.password = null;
                return this;
            }
            byte[] bytes = new String(password).getBytes(StandardCharsets.UTF_8);
            if (bytes.length > MAX_PASSWORD_BYTES) {
                throw new IllegalArgumentException("password longer than " + MAX_PASSWORD_BYTES + " bytes");
            }
            for (byte x : bytes) {
                if (x == 0) {
                    throw new IllegalArgumentException("password must not contain NUL");
                }
            }
            this.password = bytes;
            return this;
        }

        /** The password is refused after this instant (null = never expires). */
        public Builder passwordExpiry(Instant expiry) {
            this.passwordExpiry = expiry;
            return this;
        }

        /** "No auth" mode: any ticket that decrypts is accepted. */
        public Builder ticketingDisabled(boolean disabled) {
            this.ticketingDisabled = disabled;
            return this;
        }

        public Builder sessionPolicy(SessionPolicy policy) {
            this.sessionPolicy = Objects.requireNonNull(policy);
            return this;
        }

        public Builder maxLinkingConnections(int n) {
            this.maxLinkingConnections = positive(n, "maxLinkingConnections");
            return this;
        }

        public Builder linkTimeout(Duration timeout) {
            this.linkTimeout = positive(timeout, "linkTimeout");
            return this;
        }

        public Builder maxLinkMessageSize(int bytes) {
            if (bytes < 18) {
                throw new IllegalArgumentException("maxLinkMessageSize must be >= 18");
            }
            this.maxLinkMessageSize = bytes;
            return this;
        }

        public Builder maxClientsPerChannel(int n) {
            this.maxClientsPerChannel = positive(n, "maxClientsPerChannel");
            return this;
        }

        public Builder maxSessions(int n) {
            this.maxSessions = positive(n, "maxSessions");
            return this;
        }

        public Builder sendQueueMaxBytes(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("sendQueueMaxBytes must be > 0");
            }
            this.sendQueueMaxBytes = bytes;
            return this;
        }

        public Builder sendQueueMaxMessages(int n) {
            this.sendQueueMaxMessages = positive(n, "sendQueueMaxMessages");
            return this;
        }

        public Builder ackWindow(int window) {
            this.ackWindow = positive(window, "ackWindow");
            return this;
        }

        public Builder pingInterval(Duration interval) {
            this.pingInterval = positive(interval, "pingInterval");
            return this;
        }

        public Builder stuckClientTimeout(Duration timeout) {
            this.stuckClientTimeout = positive(timeout, "stuckClientTimeout");
            return this;
        }

        public Builder inputSink(InputSink sink) {
            this.inputSink = Objects.requireNonNull(sink);
            return this;
        }

        public Builder clientMouseModeAllowed(boolean allowed) {
            this.clientMouseModeAllowed = allowed;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(this);
        }

        private static int positive(int n, String name) {
            if (n <= 0) {
                throw new IllegalArgumentException(name + " must be > 0");
            }
            return n;
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be > 0");
            }
            return d;
        }
    }
}
