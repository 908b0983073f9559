package org.spicestream.distribution;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestTransport;

/**
 * The transports of one VM's devices, created (not started) before its SPICE server is built: the server's input
 * sink may come from one of them (a {@code virtio:} device with {@code ?qmp=}).
 */
public final class GuestTransports {

    private static final Logger LOG = LoggerFactory.getLogger(GuestTransports.class);

    /** Prefix of the names of configured devices (followed by the device's index in the VM). */
    public static final String DEVICE_NAME_PREFIX = "stream";

    /** One device's transport; {@code name} is the device's full name ({@code vm/streamN}) used in logs. */
    public record Entry(String name, URI uri, GuestTransport transport) {}

    private GuestTransports() {}

    /**
     * Creates the transports of {@code devices} (full name → URI, in order).
     *
     * @throws IllegalArgumentException when no transport serves a URI or it is malformed for its scheme (the
     *     transports created before it are closed again)
     */
    public static List<Entry> create(DeviceFactory factory, Map<String, URI> devices) {
        List<Entry> created = new ArrayList<>();
        try {
            for (Map.Entry<String, URI> d : devices.entrySet()) {
                created.add(new Entry(d.getKey(), d.getValue(), factory.createTransport(d.getKey(), d.getValue())));
            }
        } catch (RuntimeException e) {
            closeAll(created);
            throw e;
        }
        return List.copyOf(created);
    }

    /** Closes the given entries' transports, logging failures. */
    public static void closeAll(List<Entry> toClose) {
        for (Entry e : toClose) {
            try {
                e.transport().close();
            } catch (RuntimeException ex) {
                LOG.warn("{}: closing its transport failed: {}", e.name(), ex.toString());
            }
        }
    }
}
