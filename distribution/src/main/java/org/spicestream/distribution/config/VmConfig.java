package org.spicestream.distribution.config;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.spicestream.distribution.HostPort;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.SessionPolicy;

/**
 * One VM as spice-streamd serves it: its guest stream devices (one per monitor), how viewers authenticate, what a
 * second viewer does, where it listens besides the shared port, its bounds and its guest agent. Start from {@link #of} and replace
 * parts with the {@code with…} methods, so that a new part (say, a guest agent) is one more method.
 *
 * @param name the VM's name: {@link #NAME_PATTERN}
 * @param devices guest stream ports, one per monitor, in display-id order (display 0 first)
 * @param auth how viewers' tickets are checked
 * @param sessionPolicy what a second viewer does to the first
 * @param listen the VM's own listeners (besides the shared port), or {@link VmListen#NONE}
 * @param limits the VM's client and stream bounds
 * @param agent the VM's guest agent port and how it is relayed ({@link VmAgent#NONE}: none)
 */
public record VmConfig(String name, List<URI> devices, AuthConfig auth, SessionPolicy sessionPolicy, VmListen listen,
        VmLimits limits, VmAgent agent) {

    /** What a VM name may look like: a DNS label in lower case (it is used as a host name by CONNECT). */
    public static final Pattern NAME_PATTERN = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** Name of the VM the command line's {@code --device}s define. */
    public static final String DEFAULT_VM = "default";
    /** Most stream devices (monitors) one VM may have. */
    public static final int MAX_DEVICES = 16;

    public VmConfig {
        checkName(name);
        devices = List.copyOf(devices);
        if (devices.size() > MAX_DEVICES) {
            throw new IllegalArgumentException("a VM has at most " + MAX_DEVICES + " devices, not " + devices.size());
        }
        for (URI d : devices) {
            if (d.getScheme() == null) {
                throw new IllegalArgumentException("device '" + d + "' has no scheme (unix:/path, tcp://host:port)");
            }
        }
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(sessionPolicy, "sessionPolicy");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(agent, "agent");
    }

    /** A VM with these devices, no password (every ticket refused), replace policy, no own listener, default limits. */
    public static VmConfig of(String name, List<URI> devices) {
        return new VmConfig(name, devices, AuthConfig.REFUSE_ALL, SessionPolicy.REPLACE, VmListen.NONE,
                VmLimits.DEFAULT, VmAgent.NONE);
    }

    /**
     * @throws IllegalArgumentException when {@code name} does not match {@link #NAME_PATTERN}
     */
    public static String checkName(String name) {
        if (name == null || !NAME_PATTERN.matcher(name).matches()) {
            throw new IllegalArgumentException("bad VM name '" + name + "': 1 to 63 of a-z, 0-9 and '-', not"
                    + " starting with '-'");
        }
        return name;
    }

    public VmConfig withDevices(List<URI> newDevices) {
        return new VmConfig(name, newDevices, auth, sessionPolicy, listen, limits, agent);
    }

    public VmConfig withAuth(AuthConfig newAuth) {
        return new VmConfig(name, devices, newAuth, sessionPolicy, listen, limits, agent);
    }

    public VmConfig withSessionPolicy(SessionPolicy policy) {
        return new VmConfig(name, devices, auth, policy, listen, limits, agent);
    }

    public VmConfig withListen(VmListen newListen) {
        return new VmConfig(name, devices, auth, sessionPolicy, newListen, limits, agent);
    }

    public VmConfig withLimits(VmLimits newLimits) {
        return new VmConfig(name, devices, auth, sessionPolicy, listen, newLimits, agent);
    }

    public VmConfig withAgent(VmAgent newAgent) {
        return new VmConfig(name, devices, auth, sessionPolicy, listen, limits, newAgent);
    }

    /**
     * A VM's own listeners, besides the shared port.
     *
     * @param plain plain SPICE listen address, or null
     * @param tls TLS listen address (with the process's certificate), or null
     */
    public record VmListen(HostPort plain, HostPort tls) {
        /** Reached through the shared port only. */
        public static final VmListen NONE = new VmListen(null, null);

        public boolean any() {
            return plain != null || tls != null;
        }
    }
}
