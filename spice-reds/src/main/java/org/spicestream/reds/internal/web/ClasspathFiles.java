package org.spicestream.reds.internal.web;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.spicestream.reds.ClasspathWebContent;

/**
 * Safe lookup of a request path in class-path content (the built-in browser client): the same path checks as
 * {@link StaticFiles}, only names with an extension (so that a package directory is never "found"), bounded size.
 * Files are kept in memory once read, up to {@link #MAX_CACHED_BYTES} in total.
 */
public final class ClasspathFiles {

    /** Bytes of class-path files kept in memory; beyond it files are read again on every request. */
    static final long MAX_CACHED_BYTES = 16L * 1024 * 1024;

    /** A file found: its name (for the content type) and bytes. */
    record Found(String name, byte[] bytes) implements Lookup {}

    /** Outcome of a lookup. */
    sealed interface Lookup {}

    record NotFound() implements Lookup {}

    /** Too large ({@code size} bytes is above the bound). */
    record TooLarge(long size) implements Lookup {}

    private final ClasspathWebContent content;
    private final long maxFileSize;
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();
    private final AtomicLong cachedBytes = new AtomicLong();

    public ClasspathFiles(ClasspathWebContent content, long maxFileSize) {
        this.content = content;
        this.maxFileSize = maxFileSize;
    }

    /** Looks up an already checked relative path ("js/app.js"); {@code null} never. */
    Lookup find(String relative) {
        byte[] cached = cache.get(relative);
        if (cached != null) {
            return new Found(relative, cached);
        }
        String last = relative.substring(relative.lastIndexOf('/') + 1);
        if (last.indexOf('.') <= 0) {
            return new NotFound();
        }
        URL url = content.classLoader().getResource(content.root() + relative);
        if (url == null || isDirectory(url)) {
            return new NotFound();
        }
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxFileSize + 1));
        } catch (IOException e) {
            return new NotFound();
        }
        if (bytes.length > maxFileSize) {
            return new TooLarge(bytes.length);
        }
        if (cachedBytes.addAndGet(bytes.length) <= MAX_CACHED_BYTES) {
            if (cache.putIfAbsent(relative, bytes) != null) {
                cachedBytes.addAndGet(-bytes.length);
            }
        } else {
            cachedBytes.addAndGet(-bytes.length);
        }
        return new Found(relative, bytes);
    }

    /** Exploded class directories (tests, IDEs) have directory URLs with a dot in the name too. */
    private static boolean isDirectory(URL url) {
        try {
            if ("file".equals(url.getProtocol())) {
                return !Files.isRegularFile(Path.of(url.toURI()));
            }
            // a jar finds "dir" for the entry "dir/" too
            return url.openConnection() instanceof JarURLConnection jar && jar.getJarEntry().isDirectory();
        } catch (URISyntaxException | IllegalArgumentException | IOException e) {
            return true;
        }
    }
}
