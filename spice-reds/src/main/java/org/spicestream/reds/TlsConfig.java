package org.spicestream.reds;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The TLS listener: address, PEM certificate chain, PEM private key (PKCS#8, unencrypted, as
 * {@code openssl req -newkey} writes it) and, optionally, a PEM CA bundle; with a CA every client must
 * present a certificate it signed.
 */
public record TlsConfig(InetSocketAddress listenAddress, Path certificateChain, Path privateKey, Path clientCa) {

    public TlsConfig {
        Objects.requireNonNull(listenAddress, "listenAddress");
        Objects.requireNonNull(certificateChain, "certificateChain");
        Objects.requireNonNull(privateKey, "privateKey");
    }

    /** TLS on {@code host:port} (port 0 picks a free port) without client certificates. */
    public static TlsConfig of(String host, int port, Path certificateChain, Path privateKey) {
        return new TlsConfig(new InetSocketAddress(host, port), certificateChain, privateKey, null);
    }

    /** The same listener, requiring client certificates signed by {@code ca}. */
    public TlsConfig withClientCa(Path ca) {
        return new TlsConfig(listenAddress, certificateChain, privateKey, ca);
    }
}
