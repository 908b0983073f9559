package org.spicestream.distribution;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.spicestream.distribution.config.VmConfig;

/**
 * The validated configuration of one spice-streamd run (command line merged over the config file): the shared
 * listen address, the default VM the command line's devices define, and the process-wide parts.
 *
 * @param listen the shared SPICE listen address
 * @param defaultVm the VM of the command line's {@code --device}s (the demo's device comes on top when {@code demo})
 * @param demo run the embedded demo guest as a device of the default VM
 * @param demoWarning why the demo runs without a password (logged at start), or null
 * @param web browser (WebSocket, static files) and TLS options of the shared port
 * @param host the run-time management of VMs: control API, VM directory, route tickets
 * @param metrics where to serve /metrics, if anywhere
 * @param logLevel root log level
 */
public record Settings(HostPort listen, VmConfig defaultVm, boolean demo, String demoWarning, Web web, Host host,
        Optional<HostPort> metrics, LogLevel logLevel) {

    public Settings {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(defaultVm, "defaultVm");
        Objects.requireNonNull(web, "web");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(logLevel, "logLevel");
    }

    /**
     * Browser and TLS options.
     *
     * @param webRoot directory served over HTTP on the SPICE port(s), or null
     * @param tlsPort TLS port on the listen host, or 0 for none
     * @param tlsCert PEM certificate chain (with tlsPort)
     * @param tlsKey PEM PKCS#8 private key (with tlsPort)
     * @param tlsCa PEM CA for client certificates, or null
     * @param secureChannels channel types that must use TLS
     * @param wsMaxFrameBytes largest WebSocket frame accepted from a client
     * @param httpTimeout time to send a complete HTTP request (WebSocket handshake)
     * @param wsAllowedOrigins allowed Origin values for WebSocket upgrades (empty: any)
     */
    public record Web(Path webRoot, int tlsPort, Path tlsCert, Path tlsKey, Path tlsCa, Set<Integer> secureChannels,
            int wsMaxFrameBytes, Duration httpTimeout, List<String> wsAllowedOrigins) {
        public Web {
            secureChannels = Set.copyOf(secureChannels);
            wsAllowedOrigins = List.copyOf(wsAllowedOrigins);
        }
    }

    /**
     * Managing VMs at run time.
     *
     * @param control where the control API listens ({@code unix:/path} or a loopback {@code HOST:PORT}), or null
     * @param controlToken the bearer token the control API requires, or null (then the socket's permissions or the
     *     loopback address are the only protection)
     * @param vmDir directory of VM properties files, watched, or null
     * @param routeSecretFile file with the secret of signed route tickets, or null (names only)
     */
    public record Host(String control, String controlToken, Path vmDir, Path routeSecretFile) {
        /** Nothing managed at run time. */
        public static final Host NONE = new Host(null, null, null, null);

        @Override
        public String toString() {
            // never the token
            return "Host[control=" + control + ", token=" + (controlToken == null ? "none" : "set") + ", vmDir="
                    + vmDir + ", routeSecretFile=" + routeSecretFile + "]";
        }
    }

    /** Root log levels {@code --log-level} accepts. */
    public enum LogLevel {
        TRACE, DEBUG, INFO, WARN, ERROR, OFF
    }
}
