package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.internal.Rsa;
import org.spicestream.reds.internal.TicketVerifier;

/** R13: tickets as spice-html5 0.3 writes them when its ciphertext starts with zero bytes. */
class TicketVerifierTest {
    private static final byte[] PASSWORD = "s3cret".getBytes();
    private final KeyPair keys = Rsa.generate();

    @Test
    void aCiphertextThatLostItsLeadingZeroByteIsAccepted() throws Exception {
        byte[] ticket = ticketStartingWithZeros(1);
        byte[] html5 = spiceHtml5Layout(ticket, 1);
        assertThat(verifier(PASSWORD).check(keys.getPrivate(), ticket)).isEqualTo(TicketVerifier.Result.OK);
        assertThat(verifier(PASSWORD).check(keys.getPrivate(), html5)).isEqualTo(TicketVerifier.Result.OK);
        assertThat(verifier("other".getBytes()).check(keys.getPrivate(), html5))
                .isEqualTo(TicketVerifier.Result.WRONG_PASSWORD);
        assertThat(new TicketVerifier(null, null, true, Clock.systemUTC()).check(keys.getPrivate(), html5))
                .isEqualTo(TicketVerifier.Result.OK);
    }

    @Test
    void ticketsEndingInZerosThatDoNotDecryptStayRefused() throws Exception {
        byte[] ticket = ticketStartingWithZeros(1);
        // shifted further than the zeros it lost: the real first byte is gone
        byte[] tooFar = spiceHtml5Layout(ticket, TicketVerifier.MAX_LOST_LEADING_ZEROS + 1);
        assertThat(verifier(PASSWORD).check(keys.getPrivate(), tooFar)).isEqualTo(TicketVerifier.Result.UNDECRYPTABLE);
        byte[] garbage = spiceHtml5Layout(ticket, 1);
        garbage[3] ^= 1;
        assertThat(verifier(PASSWORD).check(keys.getPrivate(), garbage)).isEqualTo(TicketVerifier.Result.UNDECRYPTABLE);
        assertThat(verifier(PASSWORD).check(keys.getPrivate(), new byte[128])).isEqualTo(TicketVerifier.Result.UNDECRYPTABLE);
    }

    private static TicketVerifier verifier(byte[] password) {
        return new TicketVerifier(password, null, false, Clock.systemUTC());
    }

    /** A ticket for {@link #PASSWORD} whose first {@code zeros} bytes are zero (about 1 in 256^zeros encryptions). */
    private byte[] ticketStartingWithZeros(int zeros) throws GeneralSecurityException {
        for (int attempt = 0; attempt < 100_000; attempt++) {
            byte[] t = Rsa.encryptTicket(keys.getPublic(), PASSWORD);
            boolean leading = true;
            for (int i = 0; i < zeros; i++) {
                leading &= t[i] == 0;
            }
            if (leading && t[zeros] != 0) {
                return t;
            }
        }
        throw new AssertionError("no ciphertext starting with " + zeros + " zero bytes");
    }

    /** spice-html5's ticket: the ciphertext without its {@code lost} leading zeros, then zeros to 128 bytes. */
    private static byte[] spiceHtml5Layout(byte[] ticket, int lost) {
        byte[] out = new byte[ticket.length];
        System.arraycopy(ticket, lost, out, 0, ticket.length - lost);
        return out;
    }
}
