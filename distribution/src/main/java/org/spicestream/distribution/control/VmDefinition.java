package org.spicestream.distribution.control;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.spicestream.distribution.HostPort;
import org.spicestream.distribution.config.VmAgent;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.agent.AgentConfig;

/**
 * A VM's definition as the control API's JSON body or a {@code --vm-dir} properties file gives it: the same keys in
 * both (JSON values typed, properties values text; a list in a properties file is comma-separated). Every key is
 * checked; an unknown key is an error.
 *
 * <pre>
 * devices          unix:/run/vm1.sock, virtio:/run/vm1.sock?qmp=/run/vm1-qmp.sock, ...  (at least one)
 * listen           HOST:PORT of the VM's own plain listener (optional)
 * tlsListen        HOST:PORT of the VM's own TLS listener, with the server's certificate (optional)
 * password | passwordFile | disableTicketing   exactly one
 * passwordExpiry   ISO instant or duration from now (30m, 2h, PT45M), with a password
 * sessionPolicy    replace | share
 * maxClients, maxSessions, sendQueueBytes, sendQueueMessages, keyFrameWaitMs, maxFrameBytes, latencyMs,
 *                  maxVideoAgeMs   limits (optional)
 * agent            the guest agent's port (com.redhat.spice.0), same schemes as devices (optional)
 * copyPaste        relay the clipboard with the agent (default true)
 * agentMaxMessage  largest agent message, a size (default 128M)
 * </pre>
 */
public final class VmDefinition {

    /** Every key a definition may have. */
    public static final Set<String> KEYS = Set.of("devices", "listen", "tlsListen", "password", "passwordFile",
            "passwordExpiry", "disableTicketing", "sessionPolicy", "maxClients", "maxSessions", "sendQueueBytes",
            "sendQueueMessages", "keyFrameWaitMs", "maxFrameBytes", "latencyMs", "maxVideoAgeMs",
            "agent", "copyPaste", "agentMaxMessage");

    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})\\s*([kKmMgG]?)");
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h|d)");

    private VmDefinition() {}

    /**
     * The VM {@code name} that {@code fields} define; limits not given come from {@code defaults}.
     *
     * @throws IllegalArgumentException with a message naming the key at fault
     */
    public static VmConfig parse(String name, Map<String, ?> fields, VmLimits defaults, Clock clock) {
        VmConfig.checkName(name);
        Set<String> unknown = new TreeSet<>(fields.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown key(s) " + unknown + "; known: " + new TreeSet<>(KEYS));
        }
        List<URI> devices = new ArrayList<>();
        for (String d : list(fields.get("devices"), "devices")) {
            try {
                URI uri = new URI(d.trim());
                if (uri.getScheme() == null) {
                    throw new IllegalArgumentException("devices: '" + d + "' has no scheme (unix:/path, virtio:/path)");
                }
                devices.add(uri);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("devices: '" + d + "' is not a URI: " + e.getMessage());
            }
        }
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("devices: at least one device is needed");
        }
        VmConfig.VmListen listen = new VmConfig.VmListen(hostPort(fields.get("listen"), "listen"),
                hostPort(fields.get("tlsListen"), "tlsListen"));
        AuthConfig auth = auth(fields, clock);
        SessionPolicy policy = SessionPolicy.REPLACE;
        Object p = fields.get("sessionPolicy");
        if (p != null) {
            policy = switch (text(p, "sessionPolicy").toLowerCase(Locale.ROOT)) {
                case "replace" -> SessionPolicy.REPLACE;
                case "share" -> SessionPolicy.SHARE;
                default -> throw new IllegalArgumentException("sessionPolicy must be replace or share, not '" + p + "'");
            };
        }
        VmLimits limits;
        try {
            limits = new VmLimits(
                    size(fields.get("sendQueueBytes"), "sendQueueBytes", defaults.sendQueueBytes(), Long.MAX_VALUE),
                    (int) number(fields.get("sendQueueMessages"), "sendQueueMessages", defaults.sendQueueMessages()),
                    (int) number(fields.get("maxClients"), "maxClients", defaults.maxClientsPerChannel()),
                    (int) number(fields.get("maxSessions"), "maxSessions", defaults.maxSessions()),
                    Duration.ofMillis(number(fields.get("keyFrameWaitMs"), "keyFrameWaitMs",
                            defaults.keyFrameWait().toMillis())),
                    (int) size(fields.get("maxFrameBytes"), "maxFrameBytes", defaults.maxFrameBytes(),
                            StreamLimits.DATA_MAX_BYTES),
                    Duration.ofMillis(number(fields.get("latencyMs"), "latencyMs", defaults.latency().toMillis())),
                    Duration.ofMillis(number(fields.get("maxVideoAgeMs"), "maxVideoAgeMs",
                            defaults.maxVideoAge().toMillis())));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("limits: " + e.getMessage(), e);
        }
        return VmConfig.of(name, devices).withListen(listen).withAuth(auth).withSessionPolicy(policy)
                .withLimits(limits).withAgent(agent(fields));
    }

    private static VmAgent agent(Map<String, ?> fields) {
        URI port = null;
        Object a = fields.get("agent");
        if (a != null) {
            try {
                port = new URI(text(a, "agent").trim());
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("agent: '" + a + "' is not a URI: " + e.getMessage());
            }
        }
        boolean copyPaste = fields.get("copyPaste") == null || bool(fields.get("copyPaste"), "copyPaste");
        long max = size(fields.get("agentMaxMessage"), "agentMaxMessage", AgentConfig.DEFAULT_MAX_MESSAGE_BYTES,
                AgentConfig.MAX_MESSAGE_BYTES_LIMIT);
        try {
            return new VmAgent(port, copyPaste, max);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("agent: " + e.getMessage(), e);
        }
    }

    /**
     * The authentication a {@code password}, {@code passwordFile} or {@code disableTicketing} field gives (and
     * {@code passwordExpiry}); also the body of a password rotation.
     */
    public static AuthConfig auth(Map<String, ?> fields, Clock clock) {
        Object password = fields.get("password");
        Object file = fields.get("passwordFile");
        boolean disabled = bool(fields.get("disableTicketing"), "disableTicketing");
        int given = (password != null ? 1 : 0) + (file != null ? 1 : 0) + (disabled ? 1 : 0);
        if (given != 1) {
            throw new IllegalArgumentException("give exactly one of password, passwordFile and disableTicketing: true");
        }
        Object expiryText = fields.get("passwordExpiry");
        if (disabled) {
            if (expiryText != null) {
                throw new IllegalArgumentException("passwordExpiry needs a password");
            }
            return AuthConfig.TICKETING_DISABLED;
        }
        String pw = password != null ? text(password, "password") : readFirstLine(Path.of(text(file, "passwordFile")));
        Instant expiry = expiryText == null ? null : expiry(text(expiryText, "passwordExpiry"), clock);
        try {
            return AuthConfig.password(pw.toCharArray(), expiry);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("password: " + e.getMessage(), e);
        }
    }

    private static String readFirstLine(Path file) {
        try {
            if (Files.size(file) > 4096) {
                throw new IllegalArgumentException("passwordFile " + file + " is larger than 4 KiB");
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            String line = end < 0 ? text : text.substring(0, end);
            return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
        } catch (IOException e) {
            throw new IllegalArgumentException("passwordFile " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    static Instant expiry(String text, Clock clock) {
        return expiry(text, clock, "passwordExpiry");
    }

    /**
     * An ISO instant, an ISO duration (PT30M) or a short duration (30m, 2h, 1d, 90s) from now.
     *
     * @param what the option or key named in the message
     * @throws IllegalArgumentException for anything else, or a time not in the future
     */
    public static Instant expiry(String text, Clock clock, String what) {
        String s = text.trim();
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException ignored) {
            // not an instant: a duration from now
        }
        Duration d;
        Matcher m = SHORT_DURATION.matcher(s.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } else {
            try {
                d = Duration.parse(s.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(what + ": '" + text + "' is neither an ISO instant"
                        + " (2026-12-01T18:00:00Z) nor a duration (30m, 2h, 1d, PT45M)");
            }
        }
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must lie in the future");
        }
        return clock.instant().plus(d);
    }

    private static List<String> list(Object v, String key) {
        if (v == null) {
            return List.of();
        }
        if (v instanceof String s) {
            return s.isBlank() ? List.of() : List.of(s.split(","));
        }
        if (v instanceof Collection<?> c) {
            List<String> out = new ArrayList<>();
            for (Object o : c) {
                out.add(text(o, key));
            }
            return out;
        }
        throw new IllegalArgumentException(key + " must be a list of strings");
    }

    private static String text(Object v, String key) {
        if (v instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException(key + " must be a string");
    }

    private static boolean bool(Object v, String key) {
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(key + " must be true or false");
    }

    private static HostPort hostPort(Object v, String key) {
        if (v == null) {
            return null;
        }
        try {
            return HostPort.parse(text(v, key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    private static long number(Object v, String key, long dflt) {
        if (v == null) {
            return dflt;
        }
        if (v instanceof Integer || v instanceof Long) {
            return ((Number) v).longValue();
        }
        if (v instanceof String s && s.trim().matches("\\d{1,12}")) {
            return Long.parseLong(s.trim());
        }
        throw new IllegalArgumentException(key + " must be a whole number, not '" + v + "'");
    }

    private static long size(Object v, String key, long dflt, long max) {
        if (v == null) {
            return dflt;
        }
        if (v instanceof Integer || v instanceof Long) {
            long n = ((Number) v).longValue();
            if (n <= 0 || n > max) {
                throw new IllegalArgumentException(key + " must be between 1 and " + max);
            }
            return n;
        }
        Matcher m = SIZE.matcher(text(v, key).trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not a size (1234, 64k, 32M, 1G)");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        long n = Long.parseLong(m.group(1));
        if (n <= 0 || n > (max >> shift)) {
            throw new IllegalArgumentException(key + " must be between 1 and " + max + " bytes, not '" + v + "'");
        }
        return n << shift;
    }
}
