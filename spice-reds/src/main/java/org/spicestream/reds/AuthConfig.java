package org.spicestream.reds;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

/** How a client's ticket is checked (B47–B49): a password (with an optional expiry), no ticketing, or refusal. */
public sealed interface AuthConfig {

    /** Passwords longer than this (UTF-8 bytes) are refused at configuration (B48, SPICE_MAX_PASSWORD_LENGTH). */
    int MAX_PASSWORD_BYTES = 60;

    /** No password set: every ticket is refused (B47). */
    AuthConfig REFUSE_ALL = new NoPassword();

    /** "No auth" mode: any ticket that decrypts is accepted. */
    AuthConfig TICKETING_DISABLED = new TicketingDisabled();

    /** A password that never expires. */
    static AuthConfig password(String password) {
        return password(password.toCharArray(), null);
    }

    /**
     * A password refused after {@code expiry} (null: never).
     *
     * @throws IllegalArgumentException when longer than {@link #MAX_PASSWORD_BYTES} UTF-8 bytes, empty, or with a NUL
     */
    static AuthConfig password(char[] password, Instant expiry) {
        return new Password(new String(password).getBytes(StandardCharsets.UTF_8), expiry);
    }

    /** Checked by the password's bytes. */
    record Password(byte[] utf8, Instant expiry) implements AuthConfig {
        public Password {
            utf8 = utf8.clone();
            if (utf8.length == 0) {
                throw new IllegalArgumentException("password must not be empty");
            }
            if (utf8.length > MAX_PASSWORD_BYTES) {
                throw new IllegalArgumentException("password longer than " + MAX_PASSWORD_BYTES + " bytes");
            }
            for (byte x : utf8) {
                if (x == 0) {
                    throw new IllegalArgumentException("password must not contain NUL");
                }
            }
        }

        /** A copy of the password's UTF-8 bytes. */
        @Override
        public byte[] utf8() {
            return utf8.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Password p && Arrays.equals(utf8, p.utf8) && java.util.Objects.equals(expiry, p.expiry);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(utf8) * 31 + java.util.Objects.hashCode(expiry);
        }

        @Override
        public String toString() {
            return "password" + (expiry == null ? "" : " until " + expiry);
        }
    }

    /** Any ticket that decrypts is accepted. */
    record TicketingDisabled() implements AuthConfig {
        @Override
        public String toString() {
            return "ticketing disabled";
        }
    }

    /** Every ticket refused. */
    record NoPassword() implements AuthConfig {
        @Override
        public String toString() {
            return "no password (every ticket refused)";
        }
    }
}
