package org.spicestream.reds.internal;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;

/** Checks a 128-byte ticket against the configured password, in the reference's order (B47–B49). */
public final class TicketVerifier {

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
        byte[] plain;
        try {
            plain = Rsa.decryptTicket(key, ticket);
        } catch (GeneralSecurityException | RuntimeException e) {
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
}
