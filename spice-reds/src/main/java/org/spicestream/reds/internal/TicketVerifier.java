package org.spicestream.reds.internal;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;

/** Checks a 128-byte ticket against the configured password, in the reference's order (B47–B49). */
public final class TicketVerifier {

    /**
     * Leading zero bytes of a ciphertext that a client may have lost (R13). spice-html5 0.3 turns its RSA result into
     * bytes through a hexadecimal string that drops leading zeros and writes the shorter ciphertext at the start of
     * the 128-byte field, zeros after it: about one link in 230 (one zero byte; two in 65 536). Such a ticket is
     * tried again shifted right by as many bytes as it ends with zeros, at most this many.
     */
    public static final int MAX_LOST_LEADING_ZEROS = 2;

    /** Outcome of a check; anything but OK means PERMISSION_DENIED. */
    public enum Result { OK, UNDECRYPTABLE, NO_PASSWORD, EXPIRED, WRONG_PASSWORD }

    private final byte[] password;
    private final Instant expiry;
    private final boolean ticketingDisabled;
    private final Clock clock;

    /** A verifier for {@code auth}. */
    public static TicketVerifier of(org.spicestream.reds.AuthConfig auth, Clock clock) {
        if (auth instanceof org.spicestream.reds.AuthConfig.Password p) {
            return new TicketVerifier(p.utf8(), p.expiry(), false, clock);
        }
        return new TicketVerifier(null, null, auth instanceof org.spicestream.reds.AuthConfig.TicketingDisabled, clock);
    }

    public TicketVerifier(byte[] password, Instant expiry, boolean ticketingDisabled, Clock clock) {
        this.password = password == null ? null : password.clone();
        this.expiry = expiry;
        this.ticketingDisabled = ticketingDisabled;
        this.clock = clock;
    }

    public Result check(PrivateKey key, byte[] ticket) {
        byte[] plain = decrypt(key, ticket);
        if (plain == null) {
            return Result.UNDECRYPTABLE;
        }
        try {
            if (ticketingDisabled) {
                return Result.OK;
            }
            if (password == null) {
                return Result.NO_PASSWORD;
            }
            if (expiry != null && clock.instant().isAfter(expiry)) {
                return Result.EXPIRED;
            }
            byte[] given = Rsa.untilNul(plain);
            // constant-time for equal lengths; the length of the password is not a secret worth hiding here
            return MessageDigest.isEqual(given, password) ? Result.OK : Result.WRONG_PASSWORD;
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    /** The plaintext, or null; a ticket that ends with zeros is also tried right-aligned (R13). */
    private static byte[] decrypt(PrivateKey key, byte[] ticket) {
        int lost = 0;
        while (lost < MAX_LOST_LEADING_ZEROS && lost < ticket.length && ticket[ticket.length - 1 - lost] == 0) {
            lost++;
        }
        for (int shift = 0; shift <= lost; shift++) {
            byte[] aligned = ticket;
            if (shift > 0) {
                aligned = new byte[ticket.length];
                System.arraycopy(ticket, 0, aligned, shift, ticket.length - shift);
            }
            try {
                return Rsa.decryptTicket(key, aligned);
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this alignment
            }
        }
        return null;
    }
}
