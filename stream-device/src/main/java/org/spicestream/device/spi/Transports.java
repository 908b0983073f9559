package org.spicestream.device.spi;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the {@link TransportProvider} for a device URI, deterministically: explicitly configured providers
 * first, then those of the service loader sorted by class name.
 *
 * <p>An explicitly configured provider for a scheme hides every discovered provider of that scheme; two explicit
 * providers for one scheme are a configuration error. Two discovered providers for one scheme are an error only
 * when that scheme is asked for, so that an ambiguous plugin does not break unrelated devices.
 */
public final class Transports {

    private static final Logger log = LoggerFactory.getLogger(Transports.class);

    /** Per scheme, every candidate in discovery order (explicit first). */
    private final Map<String, List<Candidate>> byScheme = new LinkedHashMap<>();

    private final List<TransportProvider> providers = new ArrayList<>();

    private record Candidate(TransportProvider provider, boolean explicit) {
        String className() {
            return provider.getClass().getName();
        }
    }

    private Transports(List<? extends TransportProvider> explicit, List<? extends TransportProvider> discovered) {
        for (TransportProvider p : explicit) {
            String scheme = normalise(Objects.requireNonNull(p, "explicit provider").scheme());
            List<Candidate> list = byScheme.computeIfAbsent(scheme, s -> new ArrayList<>());
            if (!list.isEmpty()) {
                throw new IllegalArgumentException("two explicitly configured transport providers for scheme '"
                        + scheme + "': " + list.get(0).className() + " and " + p.getClass().getName()
                        + "; configure only one of them");
            }
            list.add(new Candidate(p, true));
            providers.add(p);
        }
        List<TransportProvider> sorted = new ArrayList<>(discovered);
        sorted.sort(Comparator.comparing(p -> p.getClass().getName()));
        for (TransportProvider p : sorted) {
            String scheme = normalise(p.scheme());
            List<Candidate> list = byScheme.computeIfAbsent(scheme, s -> new ArrayList<>());
            if (!list.isEmpty() && list.get(0).explicit()) {
                log.debug("transport provider {} for scheme '{}' is hidden by the explicitly configured {}",
                        p.getClass().getName(), scheme, list.get(0).className());
                continue;
            }
            list.add(new Candidate(p, false));
            providers.add(p);
        }
    }

    /** Providers found by the service loader of the context class loader (or of this class). */
    public static Transports load() {
        return load(List.of(), defaultClassLoader());
    }

    /** The explicitly configured providers, then those the service loader finds through {@code loader}. */
    public static Transports load(List<? extends TransportProvider> explicit, ClassLoader loader) {
        return new Transports(explicit, discover(loader));
    }

    /** Explicit providers, then {@code discovered} as if the service loader had found them (sorted by class name). */
    public static Transports of(List<? extends TransportProvider> explicit,
            List<? extends TransportProvider> discovered) {
        return new Transports(explicit, discovered);
    }

    /**
     * The usable provider for the scheme of {@code uri}.
     *
     * @throws IllegalArgumentException when the URI has no scheme, no provider serves it (the message lists the
     *     schemes available), two discovered providers serve it (the message names both and says how to choose),
     *     or its provider is unavailable on this platform (the message gives the provider's reason)
     */
    public TransportProvider forUri(URI uri) {
        Objects.requireNonNull(uri, "uri");
        if (uri.getScheme() == null) {
            throw new IllegalArgumentException("device URI '" + uri + "' has no scheme; available schemes: "
                    + describeSchemes());
        }
        String scheme = normalise(uri.getScheme());
        List<Candidate> candidates = byScheme.getOrDefault(scheme, List.of());
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("unknown transport scheme '" + scheme + "' in device URI '" + uri
                    + "'; available schemes: " + describeSchemes());
        }
        if (candidates.size() > 1) {
            throw new IllegalArgumentException("more than one transport provider for scheme '" + scheme + "': "
                    + candidates.stream().map(Candidate::className).collect(Collectors.joining(" and "))
                    + "; choose one by configuring it explicitly (or remove the other jar from the class path)");
        }
        TransportProvider provider = candidates.get(0).provider();
        Optional<String> reason = provider.unavailableReason();
        if (reason.isPresent()) {
            throw new IllegalArgumentException("transport '" + scheme + "' (" + provider.getClass().getName()
                    + ") is not available on this platform: " + reason.get());
        }
        return provider;
    }

    /** Finds the provider for {@code uri} and creates a transport with it. */
    public GuestTransport create(URI uri, TransportContext ctx) {
        return forUri(uri).create(uri, ctx);
    }

    /** Every scheme that has at least one provider, sorted. */
    public List<String> schemes() {
        return List.copyOf(new TreeSet<>(byScheme.keySet()));
    }

    /** Every provider in discovery order (explicit first, hidden ones left out). */
    public List<TransportProvider> providers() {
        return List.copyOf(providers);
    }

    private String describeSchemes() {
        if (byScheme.isEmpty()) {
            return "none (no transport provider on the class path)";
        }
        return new TreeSet<>(byScheme.keySet()).stream()
                .map(s -> {
                    List<Candidate> c = byScheme.get(s);
                    if (c.size() > 1) {
                        return s + " (ambiguous)";
                    }
                    return c.get(0).provider().unavailableReason().map(r -> s + " (unavailable)").orElse(s);
                })
                .collect(Collectors.joining(", "));
    }

    private static String normalise(String scheme) {
        if (scheme == null || scheme.isEmpty()) {
            throw new IllegalArgumentException("a transport provider reported an empty scheme");
        }
        return scheme.toLowerCase(Locale.ROOT);
    }

    private static ClassLoader defaultClassLoader() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return tccl != null ? tccl : Transports.class.getClassLoader();
    }

    private static List<TransportProvider> discover(ClassLoader loader) {
        List<ServiceLoader.Provider<TransportProvider>> found = new ArrayList<>();
        var it = ServiceLoader.load(TransportProvider.class, loader).stream().iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                log.warn("skipping a transport provider that cannot be loaded: {}", e.toString());
            }
        }
        found.sort(Comparator.comparing(p -> p.type().getName()));
        List<TransportProvider> result = new ArrayList<>();
        for (ServiceLoader.Provider<TransportProvider> p : found) {
            try {
                result.add(p.get());
            } catch (ServiceConfigurationError | RuntimeException e) {
                log.warn("skipping transport provider {}: it failed to instantiate: {}", p.type().getName(),
                        e.toString());
            }
        }
        return result;
    }
}
