package org.spicestream.distribution.vm;

import io.netty.channel.EventLoopGroup;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.spicestream.distribution.DeviceFactory;
import org.spicestream.distribution.metrics.StreamdMetrics;
import org.spicestream.reds.WebConfig;

/**
 * What every VM of the process shares: the event loops, the link-key thread, the transports, the HTTP side of
 * the listeners, the TLS files for VMs that listen with TLS themselves, and the metrics.
 *
 * @param group the event loops of every server, device and transport
 * @param keyExecutor the one link-key thread of every server
 * @param devices creates transports and stream devices
 * @param web the HTTP side of each VM's own listeners
 * @param tls the process's certificate for VMs with an own TLS listener, or null (then none may have one)
 * @param metrics the meters
 */
public record VmEnvironment(EventLoopGroup group, ExecutorService keyExecutor, DeviceFactory devices, WebConfig web,
        TlsFiles tls, StreamdMetrics metrics) {

    public VmEnvironment {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(keyExecutor, "keyExecutor");
        Objects.requireNonNull(devices, "devices");
        Objects.requireNonNull(web, "web");
        Objects.requireNonNull(metrics, "metrics");
    }

    /**
     * The process's TLS files.
     *
     * @param certificateChain PEM chain
     * @param privateKey PEM PKCS#8 key
     * @param clientCa PEM CA for client certificates, or null
     * @param secureChannels channel types the default VM requires over TLS
     */
    public record TlsFiles(Path certificateChain, Path privateKey, Path clientCa, Set<Integer> secureChannels) {
        public TlsFiles {
            Objects.requireNonNull(certificateChain, "certificateChain");
            Objects.requireNonNull(privateKey, "privateKey");
            secureChannels = Set.copyOf(secureChannels);
        }
    }
}
