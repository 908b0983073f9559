package org.spicestream.distribution.vm;

import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.FrontDoor;

/**
 * The VMs of the process, added, replaced and removed at run time, and the router of the shared port: a plain
 * SPICE link goes to the {@value VmConfig#DEFAULT_VM} VM, {@code CONNECT NAME:port} and a WebSocket to {@code
 * /vms/NAME} to VM NAME (or, with route tickets, to the VM a valid ticket names, without a password), any other
 * WebSocket path to the default VM. Changes are serialised; lookups are lock-free.
 */
public final class VmRegistry implements FrontDoor.Router, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VmRegistry.class);

    /** Path prefix of a VM's WebSocket on the shared port: {@code /vms/NAME}. */
    public static final String WEBSOCKET_PREFIX = "/vms/";
    /** Most VMs one process serves (each costs its devices' memory and its clients' queues). */
    public static final int MAX_VMS = 256;

    /** What {@link #put} did. */
    public enum PutResult { CREATED, REPLACED }

    private final VmEnvironment env;
    private final RouteTickets tickets;
    private final Clock clock;
    private final Map<String, Vm> vms = new ConcurrentHashMap<>();
    private boolean closed;

    /**
     * @param tickets route tickets accepted in place of a name on the shared port, or null
     */
    public VmRegistry(VmEnvironment env, RouteTickets tickets, Clock clock) {
        this.env = env;
        this.tickets = tickets;
        this.clock = clock;
    }

    /** Adds or replaces VM {@code config.name()}. */
    public PutResult put(VmConfig config) {
        return put(config, Map.of());
    }

    /**
     * Adds or replaces a VM. A bad configuration changes nothing: the old VM (if any) keeps running, or is running
     * again, when the new one cannot start.
     *
     * @param extra devices on top of the configured ones (short name → URI), e.g. the demo guest's
     * @throws IllegalArgumentException for a bad configuration (unknown scheme, TLS without certificate, too many VMs)
     * @throws IllegalStateException when the new VM cannot start (a listen address in use, a device that fails)
     */
    public synchronized PutResult put(VmConfig config, Map<String, URI> extra) {
        if (closed) {
            throw new IllegalStateException("shutting down");
        }
        Vm.serverConfig(config, env); // checks the listeners
        for (URI uri : config.devices()) {
            env.devices().checkScheme(uri);
        }
        if (config.agent().port() != null) {
            env.devices().checkScheme(config.agent().port());
        }
        Vm old = vms.get(config.name());
        if (old == null && vms.size() >= MAX_VMS) {
            throw new IllegalArgumentException("already " + MAX_VMS + " VMs (the bound of one process)");
        }
        boolean sameListen = old != null && old.config().listen().any()
                && old.config().listen().equals(config.listen());
        if (old != null && sameListen) {
            // the new VM needs the old one's address: stop it first, bring it back if the new one fails
            old.close();
            try {
                vms.put(config.name(), Vm.start(config, env, extra));
            } catch (RuntimeException e) {
                LOG.warn("VM {}: the new configuration failed ({}), restarting the previous one", config.name(),
                        e.getMessage());
                try {
                    vms.put(config.name(), Vm.start(old.config(), env, extra(old)));
                } catch (RuntimeException again) {
                    vms.remove(config.name());
                    LOG.error("VM {}: the previous configuration failed too: {}", config.name(), again.getMessage());
                }
                throw e;
            }
        } else {
            if (old != null) {
                old.detachMetrics(); // the new VM's meters have the same tags
            }
            Vm started;
            try {
                started = Vm.start(config, env, extra);
            } catch (RuntimeException e) {
                if (old != null) {
                    old.attachMetrics();
                }
                throw e;
            }
            vms.put(config.name(), started);
            if (old != null) {
                old.close();
            }
        }
        LOG.info("VM {} {}", config.name(), old == null ? "added" : "replaced");
        return old == null ? PutResult.CREATED : PutResult.REPLACED;
    }

    private static Map<String, URI> extra(Vm vm) {
        Map<String, URI> extra = new java.util.LinkedHashMap<>();
        List<URI> uris = vm.deviceUris();
        for (int i = vm.config().devices().size(); i < uris.size(); i++) {
            extra.put(vm.shortName(vm.devices().get(i)), uris.get(i));
        }
        return extra;
    }

    /** Removes VM {@code name}: its clients are told DISCONNECTING, its devices closed. False if there was none. */
    public synchronized boolean remove(String name) {
        Vm vm = vms.remove(name);
        if (vm == null) {
            return false;
        }
        vm.close();
        LOG.info("VM {} removed", name);
        return true;
    }

    /**
     * Replaces VM {@code name}'s authentication for new links (connected viewers stay).
     *
     * @return false when there is no such VM
     */
    public synchronized boolean setAuth(String name, AuthConfig auth) {
        Vm vm = vms.get(name);
        if (vm == null) {
            return false;
        }
        vm.server().setAuth(auth);
        vm.replaceConfig(vm.config().withAuth(auth));
        return true;
    }

    public Optional<Vm> get(String name) {
        return Optional.ofNullable(vms.get(name));
    }

    /** Every VM, by name. */
    public List<Vm> list() {
        List<Vm> all = new ArrayList<>(vms.values());
        all.sort(Comparator.comparing(Vm::name));
        return all;
    }

    public int size() {
        return vms.size();
    }

    // ---- routing on the shared port ----

    @Override
    public FrontDoor.Route spice() {
        Vm vm = vms.get(VmConfig.DEFAULT_VM);
        return vm == null ? null : FrontDoor.Route.to(vm.server());
    }

    @Override
    public FrontDoor.Route connect(String host, int port) {
        return byNameOrTicket(host);
    }

    @Override
    public FrontDoor.Route webSocket(String path) {
        if (path.startsWith(WEBSOCKET_PREFIX)) {
            String rest = path.substring(WEBSOCKET_PREFIX.length());
            return rest.isEmpty() || rest.indexOf('/') >= 0 ? null : byNameOrTicket(rest);
        }
        return spice();
    }

    private FrontDoor.Route byNameOrTicket(String nameOrTicket) {
        if (tickets != null && RouteTickets.looksLikeTicket(nameOrTicket)) {
            Optional<String> name = tickets.verify(nameOrTicket, clock.instant());
            if (name.isEmpty()) {
                LOG.info("route ticket refused (bad signature or expired): {}", nameOrTicket.substring(0,
                        nameOrTicket.indexOf('.')));
                return null;
            }
            Vm vm = vms.get(name.get());
            return vm == null ? null : new FrontDoor.Route(vm.server(), true);
        }
        Vm vm = vms.get(nameOrTicket);
        return vm == null ? null : FrontDoor.Route.to(vm.server());
    }

    /** Stops every VM. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Vm vm : list()) {
            vm.close();
        }
        vms.clear();
    }
}
