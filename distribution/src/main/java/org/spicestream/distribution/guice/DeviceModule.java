package org.spicestream.distribution.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.spicestream.device.StreamDeviceConfig;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.Transports;

/**
 * Guest devices: transports by URI scheme (explicitly bound providers first, then those the {@link
 * java.util.ServiceLoader} finds, e.g. transport-socket's tcp and unix) and the stream-device tunables.
 *
 * <p>Another module may add a provider with {@code Multibinder.newSetBinder(binder(), TransportProvider.class)};
 * it then hides a discovered provider of the same scheme.
 */
public final class DeviceModule extends AbstractModule {

    @Override
    protected void configure() {
        Multibinder.newSetBinder(binder(), TransportProvider.class); // explicit providers: none by default
    }

    @Provides
    @Singleton
    Transports transports(Set<TransportProvider> explicit) {
        ClassLoader loader = DeviceModule.class.getClassLoader();
        return Transports.load(List.copyOf(explicit), loader);
    }

    /** Every usable scheme and its provider (ambiguous or unavailable schemes are left out). */
    @Provides
    @Singleton
    Map<String, TransportProvider> transportsByScheme(Transports transports) {
        Map<String, TransportProvider> byScheme = new TreeMap<>();
        for (TransportProvider p : transports.providers()) {
            try {
                byScheme.putIfAbsent(p.scheme(), transports.forUri(java.net.URI.create(p.scheme() + ":probe")));
            } catch (IllegalArgumentException e) {
                // ambiguous or unavailable here; a device URI of that scheme reports why
            }
        }
        return Map.copyOf(byScheme);
    }

    /** The base every VM's devices start from; each VM's limits are applied by {@code DeviceFactory}. */
    @Provides
    @Singleton
    StreamDeviceConfig deviceConfig() {
        return StreamDeviceConfig.DEFAULT;
    }
}
