package org.spicestream.distribution.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.spicestream.distribution.config.VmConfig;

/**
 * Signed, expiring route tickets: what a fleet manager hands a viewer instead of a VM's name (and password). A
 * ticket is {@code NAME.EXPIRY.MAC}: the VM name, the expiry in Unix seconds, and the first {@value #MAC_BYTES}
 * bytes of HMAC-SHA256(secret, "spicestream-route-v1\nNAME\nEXPIRY") as lower-case hex. It is a valid host name
 * (for {@code CONNECT} and {@code spice://TICKET:5900}) and path segment (for {@code /vms/TICKET}). A connection routed
 * by a valid ticket needs no SPICE password.
 */
public final class RouteTickets {

    /** Bytes of the MAC kept in a ticket (128 bits). */
    public static final int MAC_BYTES = 16;
    /** Shortest secret accepted, in bytes. */
    public static final int MIN_SECRET_BYTES = 16;
    /** Largest secret file read. */
    public static final int MAX_SECRET_BYTES = 4096;
    /** Domain separation of the MAC input. */
    static final String CONTEXT = "spicestream-route-v1";

    private static final Pattern TICKET = Pattern.compile("(" + VmConfig.NAME_PATTERN.pattern() + ")\\.(\\d{1,12})\\.([0-9a-f]{"
            + (2 * MAC_BYTES) + "})");

    private final byte[] secret;

    public RouteTickets(byte[] secret) {
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("the route secret must have at least " + MIN_SECRET_BYTES + " bytes");
        }
        this.secret = secret.clone();
    }

    /**
     * The secret in {@code file}: its bytes without a trailing line end.
     *
     * @throws IllegalArgumentException when unreadable, too short or too long
     */
    public static RouteTickets fromFile(Path file) {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_SECRET_BYTES) {
                throw new IllegalArgumentException("route secret file " + file + " is larger than " + MAX_SECRET_BYTES
                        + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read route secret file " + file + ": " + e.getMessage(), e);
        }
        int n = bytes.length;
        while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r')) {
            n--;
        }
        return new RouteTickets(java.util.Arrays.copyOf(bytes, n));
    }

    /** A ticket for VM {@code name}, valid until {@code expiry}. */
    public String make(String name, Instant expiry) {
        VmConfig.checkName(name);
        long e = expiry.getEpochSecond();
        return name + "." + e + "." + HexFormat.of().formatHex(mac(name, e));
    }

    /** The VM a ticket routes to, if it is well-formed, correctly signed and not expired at {@code now}. */
    public Optional<String> verify(String ticket, Instant now) {
        Matcher m = TICKET.matcher(ticket);
        if (!m.matches()) {
            return Optional.empty();
        }
        long expiry = Long.parseLong(m.group(2));
        byte[] given = HexFormat.of().parseHex(m.group(3));
        if (!MessageDigest.isEqual(given, mac(m.group(1), expiry)) || now.getEpochSecond() > expiry) {
            return Optional.empty();
        }
        return Optional.of(m.group(1));
    }

    /** Whether {@code text} has the form of a ticket (signed or not). */
    public static boolean looksLikeTicket(String text) {
        return TICKET.matcher(text).matches();
    }

    private byte[] mac(String name, long expiry) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            byte[] full = mac.doFinal((CONTEXT + "\n" + name + "\n" + expiry).getBytes(StandardCharsets.UTF_8));
            return java.util.Arrays.copyOf(full, MAC_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
