package org.spicestream.distribution;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestTransport;

/**
 * The transports of the configured {@code --device} URIs, created (not started) before the SPICE server is built:
 * the server's input sink may come from one of them (a {@code virtio:} device with {@code ?qmp=}). Devices are
 * named {@value #DEVICE_NAME_PREFIX}0, {@value #DEVICE_NAME_PREFIX}1, … in {@code --device} order.
 */
@Singleton
public final class GuestTransports {

    private static final Logger LOG = LoggerFactory.getLogger(GuestTransports.class);

    /** Prefix of the names of configured devices (followed by the index of their {@code --device}). */
    public static final String DEVICE_NAME_PREFIX = "stream";

    /** One configured device's transport. */
    public record Entry(String name, URI uri, GuestTransport transport) {}

    private final List<Entry> entries;

    /**
     * @throws IllegalArgumentException when no transport serves a URI or it is malformed for its scheme (the
     *     transports created before it are closed again)
     */
    @Inject
    GuestTransports(Settings settings, DeviceFactory factory) {
        List<Entry> created = new ArrayList<>();
        try {
            int n = 0;
            for (URI uri : settings.defaultVm().devices()) {
                String name = DEVICE_NAME_PREFIX + n++;
                created.add(new Entry(name, uri, factory.createTransport(name, uri)));
            }
        } catch (RuntimeException e) {
            closeAll(created);
            throw e;
        }
        entries = List.copyOf(created);
    }

    /** In {@code --device} order. */
    public List<Entry> entries() {
        return entries;
    }

    /** Closes the given entries' transports, logging failures. */
    static void closeAll(List<Entry> toClose) {
        for (Entry e : toClose) {
            try {
                e.transport().close();
            } catch (RuntimeException ex) {
                LOG.warn("{}: closing its transport failed: {}", e.name(), ex.toString());
            }
        }
    }
}
