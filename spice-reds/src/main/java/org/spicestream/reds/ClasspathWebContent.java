package org.spicestream.reds;

import java.util.Objects;

/**
 * Static web content served from the class path on the SPICE port (e.g. the built-in browser client), used when
 * no web root directory is configured.
 *
 * @param classLoader the loader that finds the resources
 * @param root resource path prefix of the content, e.g. {@code org/spicestream/webclient/site/} (ends with "/");
 *     a request for {@code /} serves {@code root + "index.html"}
 */
public record ClasspathWebContent(ClassLoader classLoader, String root) {
    public ClasspathWebContent {
        Objects.requireNonNull(classLoader, "classLoader");
        Objects.requireNonNull(root, "root");
        if (!root.endsWith("/") || root.startsWith("/")) {
            throw new IllegalArgumentException("root must be a relative resource path ending with '/': " + root);
        }
    }
}
