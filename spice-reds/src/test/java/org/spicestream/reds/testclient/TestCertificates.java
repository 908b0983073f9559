package org.spicestream.reds.testclient;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.spicestream.testsupport.ExternalTools;

/**
 * Self-signed PEM certificates for TLS tests, made with the {@code openssl} CLI (Netty's
 * SelfSignedCertificate needs BouncyCastle or JDK internals). The key is PKCS#8, which the JDK provider reads.
 */
public final class TestCertificates {

    /** Validity of a generated certificate. */
    static final int VALID_DAYS = 2;
    /** Bound on one openssl run. */
    static final long OPENSSL_TIMEOUT_SECONDS = 60;

    /** A certificate (also usable as its own CA file) and its key. */
    public record Pem(Path certificate, Path key) {}

    private TestCertificates() {}

    /** A self-signed RSA-2048 certificate for 127.0.0.1 / localhost (subject CN = {@code commonName}). */
    public static Pem selfSigned(Path dir, String name, String commonName) {
        Path openssl = ExternalTools.require("openssl", "openssl");
        Path cert = dir.resolve(name + "-cert.pem");
        Path key = dir.resolve(name + "-key.pem");
        List<String> cmd = List.of(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", Integer.toString(VALID_DAYS),
                "-subj", "/CN=" + commonName, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(OPENSSL_TIMEOUT_SECONDS, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("openssl failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new Pem(cert, key);
    }
}
