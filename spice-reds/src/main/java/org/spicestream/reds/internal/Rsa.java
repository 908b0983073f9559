package org.spicestream.reds.internal;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.Arrays;
import javax.crypto.Cipher;

/** RSA-1024 link keys and OAEP-SHA-1 tickets (spice-wire §3.4, §3.7). */
public final class Rsa {
    /** Key size of the link key. */
    public static final int KEY_BITS = 1024;
    /** JCA transformation of the ticket: OAEP with SHA-1 and MGF1-SHA-1, empty label. */
    public static final String TICKET_TRANSFORMATION = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding";

    private Rsa() {}

    /** A fresh key pair whose public key encodes to exactly {@link Wire#PUB_KEY_SIZE} bytes. */
    public static KeyPair generate() {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(new RSAKeyGenParameterSpec(KEY_BITS, RSAKeyGenParameterSpec.F4));
            KeyPair kp = gen.generateKeyPair();
            if (kp.getPublic().getEncoded().length != Wire.PUB_KEY_SIZE) {
                throw new IllegalStateException("RSA public key does not encode to " + Wire.PUB_KEY_SIZE + " bytes");
            }
            return kp;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA key generation unavailable", e);
        }
    }

    /** Decrypts a ticket; throws if it does not decrypt. */
    public static byte[] decryptTicket(PrivateKey key, byte[] ticket) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(TICKET_TRANSFORMATION);
        cipher.init(Cipher.DECRYPT_MODE, key);
        return cipher.doFinal(ticket);
    }

    /** Encrypts {@code password + NUL} as a client does (test clients). */
    public static byte[] encryptTicket(PublicKey key, byte[] password) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance(TICKET_TRANSFORMATION);
        cipher.init(Cipher.ENCRYPT_MODE, key);
        byte[] plain = Arrays.copyOf(password, password.length + 1);
        return cipher.doFinal(plain);
    }

    /** The bytes of a decrypted ticket up to (not including) its first NUL. */
    public static byte[] untilNul(byte[] plain) {
        for (int i = 0; i < plain.length; i++) {
            if (plain[i] == 0) {
                return Arrays.copyOf(plain, i);
            }
        }
        return plain;
    }
}
