package org.spicestream.distribution;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.distribution.config.VmAgent;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.control.ControlAddress;
import org.spicestream.distribution.control.VmDefinition;
import org.spicestream.distribution.vm.RouteTickets;
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.MmTimeConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.streamchannel.StreamChannelConfig;
import org.spicestream.reds.agent.AgentConfig;
import org.spicestream.reds.agent.VdAgent;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** The {@code spice-streamd} command line (picocli); {@link #parse} turns arguments into {@link Settings}. */
@Command(
        name = "spice-streamd",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        versionProvider = SpiceStreamdCommand.Version.class,
        usageHelpAutoWidth = true,
        description = {
            "Relays a guest-encoded video stream (virtio-serial port",
            "org.spice-space.stream.0) to SPICE clients. Without --device it runs an",
            "embedded demo guest: connect with  remote-viewer spice://127.0.0.1:5900",
            "",
        },
        footer = {
            "",
            "--config FILE reads the same options from a properties file: keys are the",
            "option names without the leading dashes, e.g.",
            "  listen=127.0.0.1:5900",
            "  device=unix:/run/spice-streamd/vm1.sock,tcp://127.0.0.1:5555",
            "  password-file=/etc/spice-streamd/password",
            "Options given on the command line win.",
            "",
            "Without --password-file and without --disable-ticketing the server refuses",
            "to start, except for the demo default, which then disables ticketing and",
            "listens on loopback only. --password is refused: the process list would",
            "show it to every user.",
            "",
            "Sub-commands: spice-streamd ctl --help (the control API's client: list, get,",
            "add, remove, password) and spice-streamd ticket --help (a signed route ticket).",
        })
public final class SpiceStreamdCommand {

    /** Exit code of a usage error (picocli's convention). */
    public static final int EXIT_USAGE = 2;

    /** Default listen address: loopback only, the SPICE port. */
    public static final String DEFAULT_LISTEN = ListenConfig.DEFAULT_HOST + ":" + ListenConfig.DEFAULT_PORT;

    /** Why {@code --password} is refused. */
    static final String PASSWORD_REFUSED = "a password on the command line is refused: other users can read it from"
            + " the process list (ps, /proc/<pid>/cmdline). Write it to a file only you can read (chmod 600) and"
            + " use --password-file FILE";

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = DEFAULT_LISTEN,
            description = "SPICE listen address; IPv6 as [::1]:5900 (default: ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "file holding the SPICE password (first line, at most 60 UTF-8 bytes)")
    Path passwordFile;

    @Option(names = "--password", paramLabel = "PASSWORD", hidden = true)
    String password;

    @Option(names = "--disable-ticketing", description = "let anyone who reaches the listen address connect without a"
            + " password")
    boolean disableTicketing;

    @Option(names = "--password-expiry", paramLabel = "WHEN",
            description = "the password expires at this ISO instant (2026-12-01T18:00:00Z) or after this duration"
                    + " from start (30m, 2h, 1d, 90s, PT45M)")
    String passwordExpiry;

    @Option(names = "--device", paramLabel = "URI", split = ",",
            description = "a guest stream port, repeatable: unix:/run/vm1.sock, unix:/run/x.sock?listen,"
                    + " tcp://host:port[?listen], virtio:/run/vm1.sock?qmp=/run/vm1-qmp.sock; keyboard and mouse go"
                    + " to the first virtio device with qmp=")
    List<String> devices = new ArrayList<>();

    @Option(names = "--agent", paramLabel = "URI",
            description = "the guest agent's port (spice-vdagent, virtio-serial port com.redhat.spice.0) for clipboard"
                    + " and display size; same schemes as --device, e.g. virtio:/run/vm1-agent.sock?qmp=/run/vm1-qmp.sock")
    String agent;

    @Option(names = "--disable-copy-paste", description = "do not relay the clipboard between clients and the guest"
            + " agent")
    boolean disableCopyPaste;

    // 128M = AgentConfig.DEFAULT_MAX_MESSAGE_BYTES (checked by a test)
    @Option(names = "--agent-max-message", paramLabel = "BYTES", defaultValue = "128M",
            description = "largest guest agent message (e.g. a clipboard) a client or the agent may send; suffixes k,"
                    + " M, G (default: ${DEFAULT-VALUE})")
    String agentMaxMessage;

    @Option(names = "--demo", description = "run the embedded demo guest (test pattern, MJPEG, 30 fps) besides any"
            + " --device; the default when no --device is given")
    boolean demo;

    @Option(names = "--session-policy", paramLabel = "replace|share", defaultValue = "replace",
            description = "replace: a new client replaces the connected one (as QEMU); share: clients watch together"
                    + " (default: ${DEFAULT-VALUE})")
    String sessionPolicy;

    // 32M = ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES (checked by a test; written as --help and README show it)
    @Option(names = "--send-queue-bytes", paramLabel = "BYTES", defaultValue = "32M",
            description = "per-connection send queue bound; suffixes k, M, G; a display client whose queue is full"
                    + " skips frames until the next key frame (default: ${DEFAULT-VALUE})")
    String sendQueueBytes;

    @Option(names = "--send-queue-messages", paramLabel = "N",
            defaultValue = "" + ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_MESSAGES,
            description = "per-connection send queue bound in messages (default: ${DEFAULT-VALUE})")
    int sendQueueMessages;

    @Option(names = "--max-clients", paramLabel = "N", defaultValue = "" + SessionConfig.DEFAULT_MAX_CLIENTS_PER_CHANNEL,
            description = "connections one channel accepts at once (default: ${DEFAULT-VALUE})")
    int maxClients;

    @Option(names = "--max-sessions", paramLabel = "N", defaultValue = "" + SessionConfig.DEFAULT_MAX_SESSIONS,
            description = "concurrent sessions with --session-policy share (default: ${DEFAULT-VALUE})")
    int maxSessions;

    // 2000 = StreamChannelConfig.DEFAULT_KEY_FRAME_WAIT_LIMIT (checked by a test; annotations need a constant)
    @Option(names = "--key-frame-wait", paramLabel = "MS", defaultValue = "2000",
            description = "how long a client may wait for a key frame before the guest stream is restarted;"
                    + " 0 = never restart (default: ${DEFAULT-VALUE})")
    long keyFrameWaitMs;

    // 10 = MmTimeConfig.DEFAULT_LATENCY (checked by a test; annotations need a constant)
    @Option(names = "--latency", paramLabel = "MS", defaultValue = "10",
            description = "how far a viewer's multimedia clock starts behind the frames (and the least it gets):"
                    + " spice-gtk shows a frame that long after it arrived; raised per session when frames arrive"
                    + " late, up to 400 (default: ${DEFAULT-VALUE})")
    long latencyMs;

    // 200 = StreamChannelConfig.DEFAULT_MAX_VIDEO_AGE (checked by a test)
    @Option(names = "--max-video-age", paramLabel = "MS", defaultValue = "200",
            description = "oldest video a viewer is sent: a viewer slower than the stream skips to the next key"
                    + " frame instead of falling behind, and a viewer alone paces the guest;"
                    + " 0 = only the send queue bounds (default: ${DEFAULT-VALUE})")
    long maxVideoAgeMs;

    // 32M = StreamLimits.DATA_MAX_BYTES (checked by a test)
    @Option(names = "--max-frame-bytes", paramLabel = "BYTES", defaultValue = "32M",
            description = "largest frame accepted from a guest, at most 32M; suffixes k, M (default: ${DEFAULT-VALUE})")
    String maxFrameBytes;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "root log level: trace, debug, info, warn, error or off (default: ${DEFAULT-VALUE})")
    String logLevel;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "serve Prometheus metrics at http://HOST:PORT/metrics (off by default), e.g."
                    + " 127.0.0.1:9400")
    String metrics;

    @Option(names = "--web-root", paramLabel = "DIR",
            description = "serve this directory over HTTP on the SPICE port instead of the built-in browser client,"
                    + " e.g. /usr/share/spice-html5 (then open http://HOST:PORT/spice_auto.html); WebSocket clients"
                    + " work without it")
    Path webRoot;

    @Option(names = "--tls-port", paramLabel = "PORT", defaultValue = "0",
            description = "also listen for TLS on this port of the --listen host (needs --tls-cert and --tls-key);"
                    + " 0 = no TLS (default: ${DEFAULT-VALUE})")
    int tlsPort;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain for --tls-port")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key (PKCS#8, unencrypted) for --tls-port")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "PEM CA: TLS clients must present a certificate it signed")
    Path tlsCa;

    @Option(names = "--secure-channels", paramLabel = "LIST", defaultValue = "",
            description = "channels that must use TLS: main,display,inputs,cursor or all; a plain link gets"
                    + " NEED_SECURED (spice-gtk then moves to --tls-port)")
    String secureChannels;

    // 64k = WebConfig.DEFAULT_MAX_WEBSOCKET_FRAME_SIZE (checked by a test)
    @Option(names = "--ws-max-frame-bytes", paramLabel = "BYTES", defaultValue = "64k",
            description = "largest WebSocket frame a client may send (larger: close 1009); suffixes k, M"
                    + " (default: ${DEFAULT-VALUE})")
    String wsMaxFrameBytes;

    // 5000 = WebConfig.DEFAULT_REQUEST_TIMEOUT (annotations need a constant)
    @Option(names = "--http-timeout", paramLabel = "MS", defaultValue = "5000",
            description = "time to send a complete HTTP request / WebSocket handshake (request line at most 4 KiB,"
                    + " headers 8 KiB) (default: ${DEFAULT-VALUE})")
    long httpTimeoutMs;

    @Option(names = "--ws-allowed-origins", paramLabel = "LIST", split = ",",
            description = "Origin values allowed to open a WebSocket, e.g. https://vm.example.org (default: any)")
    List<String> wsAllowedOrigins = new ArrayList<>();

    @Option(names = "--control", paramLabel = "ADDR",
            description = "serve the control API (add, replace, remove VMs at run time; HTTP/1.1 + JSON) on a Unix"
                    + " socket unix:/run/spice-streamd/control.sock (created 0600) or a loopback HOST:PORT")
    String control;

    @Option(names = "--control-token-file", paramLabel = "FILE",
            description = "the control API requires 'Authorization: Bearer TOKEN' with the first line of this file")
    Path controlTokenFile;

    @Option(names = "--vm-dir", paramLabel = "DIR",
            description = "one properties file per VM (NAME.properties, the control API's keys), watched: a new,"
                    + " changed or removed file takes effect at run time")
    Path vmDir;

    @Option(names = "--route-secret-file", paramLabel = "FILE",
            description = "secret (at least 16 bytes) of signed, expiring route tickets that CONNECT and"
                    + " /vms/TICKET accept in place of a VM name, without the VM's password; make one with"
                    + " spice-streamd ticket")
    Path routeSecretFile;

    @Option(names = "--config", paramLabel = "FILE", description = "read options from a properties file; the"
            + " command line wins")
    Path config;

    /** Default column of {@link #optionsTable()} for an option without a default value. */
    static final String NO_DEFAULT = "–";

    /**
     * The visible options as a Markdown table (Option, Default, Meaning) built from the same model {@code --help}
     * prints, in the same order, with the same texts (the "(default: …)" note moves to its own column). README.md
     * holds a copy, which a test keeps equal.
     */
    public static String optionsTable() {
        StringBuilder b = new StringBuilder("| Option | Default | Meaning |\n|---|---|---|\n");
        for (OptionSpec o : new CommandLine(new SpiceStreamdCommand()).getCommandSpec().options()) {
            if (o.hidden()) {
                continue;
            }
            StringBuilder names = new StringBuilder();
            for (String n : o.names()) {
                names.append(names.length() == 0 ? "" : ", ").append('`').append(n);
                if (o.arity().max() > 0 && n.equals(o.longestName())) {
                    names.append(' ').append(o.paramLabel());
                }
                names.append('`');
            }
            // a default is shown where --help shows it: "(default: …)" in the description (already interpolated)
            String meaning = String.join(" ", o.description());
            String note = " (default: " + o.defaultValue() + ")";
            String dflt = NO_DEFAULT;
            if (o.defaultValue() != null && meaning.contains(note)) {
                dflt = "`" + o.defaultValue() + "`";
                meaning = meaning.replace(note, "");
            }
            b.append("| ").append(cell(names.toString())).append(" | ").append(cell(dflt)).append(" | ")
                    .append(cell(meaning)).append(" |\n");
        }
        return b.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|");
    }

    /** Result of {@link #parse}: settings to run with, or an exit code after help, version or a usage error. */
    public record Outcome(Settings settings, int exitCode) {
        public boolean run() {
            return settings != null;
        }
    }

    /**
     * Parses {@code args} (and the config file they name). Help, version and usage errors are printed to
     * {@code out} / {@code err}.
     */
    public static Outcome parse(Clock clock, PrintWriter out, PrintWriter err, String... args) {
        CommandLine first = new CommandLine(new SpiceStreamdCommand());
        try {
            ParseResult pr = first.parseArgs(args);
            if (pr.isUsageHelpRequested()) {
                first.usage(out);
                out.flush();
                return new Outcome(null, 0);
            }
            if (pr.isVersionHelpRequested()) {
                first.printVersionHelp(out);
                out.flush();
                return new Outcome(null, 0);
            }
            SpiceStreamdCommand cmd = first.getCommand();
            if (cmd.config != null) {
                Properties props = loadConfig(first, cmd.config);
                CommandLine second = new CommandLine(new SpiceStreamdCommand());
                second.setDefaultValueProvider(new CommandLine.PropertiesDefaultProvider(props));
                ParseResult pr2 = second.parseArgs(args);
                SpiceStreamdCommand merged = second.getCommand();
                if (merged.password != null && !pr2.hasMatchedOption("--password")) {
                    throw new ParameterException(second, "'password' in " + cmd.config + " is refused: put the"
                            + " password in its own file only you can read and use password-file=FILE");
                }
                return new Outcome(merged.toSettings(second, clock), 0);
            }
            return new Outcome(cmd.toSettings(first, clock), 0);
        } catch (ParameterException e) {
            err.println("spice-streamd: " + e.getMessage());
            err.println("Try 'spice-streamd --help' for the options.");
            err.flush();
            return new Outcome(null, EXIT_USAGE);
        }
    }

    /** Same as {@link #parse(Clock, PrintWriter, PrintWriter, String...)} with the system clock. */
    public static Outcome parse(PrintWriter out, PrintWriter err, String... args) {
        return parse(Clock.systemUTC(), out, err, args);
    }

    private static Properties loadConfig(CommandLine cl, Path file) {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ParameterException(cl, "config file " + file + " does not exist");
        } catch (IOException | IllegalArgumentException e) {
            throw new ParameterException(cl, "cannot read config file " + file + ": " + e.getMessage());
        }
        Set<String> known = new TreeSet<>();
        for (OptionSpec o : cl.getCommandSpec().options()) {
            String name = o.longestName();
            if (name.startsWith("--") && !o.usageHelp() && !o.versionHelp() && !name.equals("--config")) {
                known.add(name.substring(2));
            }
        }
        for (String key : props.stringPropertyNames()) {
            if (!known.contains(key)) {
                // a typo must not silently fall back to a default (think of a misspelt password-file)
                throw new ParameterException(cl, "unknown key '" + key + "' in config file " + file
                        + "; known keys: " + String.join(", ", known));
            }
        }
        return props;
    }

    private Settings toSettings(CommandLine cl, Clock clock) {
        if (password != null) {
            throw new ParameterException(cl, PASSWORD_REFUSED);
        }
        HostPort listenAt = hostPort(cl, "--listen", listen);
        Optional<HostPort> metricsAt =
                metrics == null || metrics.isBlank() ? Optional.empty() : Optional.of(hostPort(cl, "--metrics", metrics));

        List<URI> uris = new ArrayList<>();
        for (String d : devices) {
            if (d.isBlank()) {
                continue;
            }
            uris.add(uri(cl, "--device", d));
        }
        Settings.Host host = host(cl);
        boolean managed = host.control() != null || host.vmDir() != null;
        // a host managed at run time starts with no VM at all; otherwise no --device means the demo
        boolean runDemo = demo || (uris.isEmpty() && !managed);
        boolean defaultVmRuns = runDemo || !uris.isEmpty();

        if (passwordFile != null && disableTicketing) {
            throw new ParameterException(cl, "--password-file and --disable-ticketing contradict each other; give one");
        }
        char[] pw = passwordFile == null ? null : readPassword(cl, passwordFile);
        Instant expiry = null;
        if (passwordExpiry != null && !passwordExpiry.isBlank()) {
            if (pw == null) {
                throw new ParameterException(cl, "--password-expiry needs --password-file");
            }
            expiry = parseExpiry(cl, passwordExpiry, clock);
        }
        boolean noAuth = disableTicketing;
        String demoWarning = null;
        if (pw == null && !disableTicketing && defaultVmRuns) {
            if (!runDemo || !uris.isEmpty()) {
                throw new ParameterException(cl, "no password configured: give --password-file FILE, or"
                        + " --disable-ticketing to let anyone who reaches " + listenAt + " connect");
            }
            if (!listenAt.isLoopback()) {
                throw new ParameterException(cl, "the demo runs without a password only on a loopback address, not on "
                        + listenAt + ": give --password-file FILE or --disable-ticketing, or listen on 127.0.0.1");
            }
            noAuth = true;
            demoWarning = "demo without a password: ticketing is disabled and the server listens on loopback only ("
                    + listenAt + "); use --password-file FILE for anything else";
        }

        SessionPolicy policy = switch (sessionPolicy.trim().toLowerCase(Locale.ROOT)) {
            case "replace" -> SessionPolicy.REPLACE;
            case "share" -> SessionPolicy.SHARE;
            default -> throw new ParameterException(cl, "--session-policy must be replace or share, not '"
                    + sessionPolicy + "'");
        };
        long queueBytes = size(cl, "--send-queue-bytes", sendQueueBytes, Long.MAX_VALUE);
        long frameBytes = size(cl, "--max-frame-bytes", maxFrameBytes, StreamLimits.DATA_MAX_BYTES);
        positive(cl, "--send-queue-messages", sendQueueMessages);
        positive(cl, "--max-clients", maxClients);
        positive(cl, "--max-sessions", maxSessions);
        if (keyFrameWaitMs < 0) {
            throw new ParameterException(cl, "--key-frame-wait must be >= 0 ms");
        }
        if (latencyMs < 0 || latencyMs > MmTimeConfig.DEFAULT_MAX_LATENCY.toMillis()) {
            throw new ParameterException(cl, "--latency must be between 0 and "
                    + MmTimeConfig.DEFAULT_MAX_LATENCY.toMillis() + " ms");
        }
        if (maxVideoAgeMs < 0 || maxVideoAgeMs > StreamChannelConfig.MAX_VIDEO_AGE_LIMIT.toMillis()) {
            throw new ParameterException(cl, "--max-video-age must be between 0 and "
                    + StreamChannelConfig.MAX_VIDEO_AGE_LIMIT.toMillis() + " ms");
        }
        Settings.LogLevel level;
        try {
            level = Settings.LogLevel.valueOf(logLevel.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--log-level must be one of trace, debug, info, warn, error, off; not '"
                    + logLevel + "'");
        }
        AuthConfig auth = noAuth ? AuthConfig.TICKETING_DISABLED
                : pw == null ? AuthConfig.REFUSE_ALL : AuthConfig.password(pw, expiry);
        if (pw != null) {
            java.util.Arrays.fill(pw, '\0');
        }
        VmConfig vm;
        try {
            vm = VmConfig.of(VmConfig.DEFAULT_VM, uris).withAuth(auth).withSessionPolicy(policy)
                    .withLimits(new VmLimits(queueBytes, sendQueueMessages, maxClients, maxSessions,
                            Duration.ofMillis(keyFrameWaitMs), (int) frameBytes, Duration.ofMillis(latencyMs),
                            Duration.ofMillis(maxVideoAgeMs)))
                    .withAgent(agent(cl));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        return new Settings(listenAt, vm, runDemo, demoWarning, web(cl), host, metricsAt, level);
    }

    private VmAgent agent(CommandLine cl) {
        URI uri = agent == null || agent.isBlank() ? null : uri(cl, "--agent", agent);
        long max = size(cl, "--agent-max-message", agentMaxMessage, AgentConfig.MAX_MESSAGE_BYTES_LIMIT);
        if (max < VdAgent.MAX_MONITORS_CONFIG_SIZE) {
            throw new ParameterException(cl, "--agent-max-message must be at least " + VdAgent.MAX_MONITORS_CONFIG_SIZE
                    + " bytes (a full MONITORS_CONFIG)");
        }
        return new VmAgent(uri, !disableCopyPaste, max);
    }

    private static URI uri(CommandLine cl, String option, String text) {
        try {
            URI uri = new URI(text.trim());
            if (uri.getScheme() == null) {
                throw new ParameterException(cl, option + " '" + text + "' has no scheme (unix:/path, tcp://host:port)");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new ParameterException(cl, option + " '" + text + "' is not a URI: " + e.getMessage());
        }
    }

    private Settings.Host host(CommandLine cl) {
        String controlAt = null;
        if (control != null && !control.isBlank()) {
            try {
                controlAt = ControlAddress.parse(control).toString();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--control: " + e.getMessage());
            }
        }
        String token = null;
        if (controlTokenFile != null) {
            if (controlAt == null) {
                throw new ParameterException(cl, "--control-token-file needs --control");
            }
            token = readToken(cl, controlTokenFile);
        }
        if (vmDir != null && !Files.isDirectory(vmDir)) {
            throw new ParameterException(cl, "--vm-dir " + vmDir + " is not a directory");
        }
        if (routeSecretFile != null) {
            try {
                RouteTickets.fromFile(routeSecretFile);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--route-secret-file: " + e.getMessage());
            }
        }
        return new Settings.Host(controlAt, token, vmDir, routeSecretFile);
    }

    /** The first line of a token file; at least {@value #MIN_TOKEN_LENGTH} characters. */
    static String readToken(CommandLine cl, Path file) {
        char[] line = readPassword(cl, file, Integer.MAX_VALUE);
        if (line.length < MIN_TOKEN_LENGTH) {
            throw new ParameterException(cl, "the token in " + file + " is shorter than " + MIN_TOKEN_LENGTH
                    + " characters");
        }
        return new String(line);
    }

    /** Shortest control API token accepted. */
    static final int MIN_TOKEN_LENGTH = 16;

    private Settings.Web web(CommandLine cl) {
        if (webRoot != null && !Files.isDirectory(webRoot)) {
            throw new ParameterException(cl, "--web-root " + webRoot + " is not a directory");
        }
        if (tlsPort < 0 || tlsPort > 65535) {
            throw new ParameterException(cl, "--tls-port must be 1..65535");
        }
        if (tlsPort > 0 && (tlsCert == null || tlsKey == null)) {
            throw new ParameterException(cl, "--tls-port needs --tls-cert FILE and --tls-key FILE");
        }
        if (tlsPort == 0 && (tlsCert != null || tlsKey != null || tlsCa != null)) {
            throw new ParameterException(cl, "--tls-cert, --tls-key and --tls-ca need --tls-port");
        }
        Set<Integer> secure;
        try {
            secure = SpiceChannelType.parseList(secureChannels);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--secure-channels: " + e.getMessage());
        }
        if (!secure.isEmpty() && tlsPort == 0) {
            throw new ParameterException(cl, "--secure-channels needs --tls-port");
        }
        long frame = size(cl, "--ws-max-frame-bytes", wsMaxFrameBytes, Integer.MAX_VALUE);
        positive(cl, "--ws-max-frame-bytes", frame);
        positive(cl, "--http-timeout", httpTimeoutMs);
        List<String> origins = wsAllowedOrigins.stream().map(String::trim).filter(o -> !o.isEmpty()).toList();
        return new Settings.Web(webRoot, tlsPort, tlsCert, tlsKey, tlsCa, secure, (int) frame,
                Duration.ofMillis(httpTimeoutMs), origins);
    }

    private static HostPort hostPort(CommandLine cl, String option, String value) {
        try {
            return HostPort.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, option + ": " + e.getMessage());
        }
    }

    private static void positive(CommandLine cl, String option, long value) {
        if (value <= 0) {
            throw new ParameterException(cl, option + " must be > 0");
        }
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kKmMgG]?)(i?[bB])?");

    /** {@code 1234}, {@code 64k}, {@code 32M}, {@code 1G} (binary multiples). */
    static long size(CommandLine cl, String option, String text, long max) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new ParameterException(cl, option + ": '" + text + "' is not a size (1234, 64k, 32M, 1G)");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new ParameterException(cl, option + ": '" + text + "' is too large");
        }
        if (n <= 0 || n > (max >> shift)) {
            throw new ParameterException(cl, option + " must be between 1 and " + max + " bytes, not '" + text + "'");
        }
        return n << shift;
    }

    /** An ISO instant, an ISO duration (PT30M) or a short duration (30m) from now. */
    static Instant parseExpiry(CommandLine cl, String text, Clock clock) {
        try {
            return VmDefinition.expiry(text, clock, "--password-expiry");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
    }

    /** The first line of {@code file}, without its line end, at most the SPICE ticket limit. */
    static char[] readPassword(CommandLine cl, Path file) {
        return readPassword(cl, file, AuthConfig.MAX_PASSWORD_BYTES);
    }

    /** The first line of {@code file}, without its line end, at most {@code maxBytes} UTF-8 bytes. */
    static char[] readPassword(CommandLine cl, Path file, int maxBytes) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ParameterException(cl, "password file " + file + " does not exist");
        } catch (IOException e) {
            throw new ParameterException(cl, "cannot read password file " + file + ": " + e.getMessage());
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        java.util.Arrays.fill(bytes, (byte) 0);
        int end = text.indexOf('\n');
        String line = end < 0 ? text : text.substring(0, end);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        if (line.isEmpty()) {
            throw new ParameterException(cl, "password file " + file + " is empty");
        }
        if (line.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
            throw new ParameterException(cl, "the password in " + file + " is longer than "
                    + maxBytes + " bytes (the SPICE ticket limit)");
        }
        return line.toCharArray();
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SpiceStreamdCommand.class.getPackage().getImplementationVersion();
            return new String[] {"spice-streamd " + (v == null ? "(development build)" : v)};
        }
    }
}
