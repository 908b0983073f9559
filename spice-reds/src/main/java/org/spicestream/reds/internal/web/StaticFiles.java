package org.spicestream.reds.internal.web;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** Safe lookup of a request path below a web root, and content types. */
final class StaticFiles {

    /** File served for "/" when present. */
    static final String INDEX = "index.html";
    /** Bound on the number of path segments of a request. */
    static final int MAX_SEGMENTS = 32;

    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("md", "text/plain; charset=utf-8"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("wasm", "application/wasm"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"));
    private static final String DEFAULT_TYPE = "application/octet-stream";

    /** Outcome of a lookup. */
    sealed interface Lookup {}

    record Found(Path file, long size) implements Lookup {}

    /** The path tries to leave the root (.., NUL, backslash, a symlink out of the root). */
    record Refused(String why) implements Lookup, PathCheck {}

    /** Outcome of checking a request path on its own. */
    sealed interface PathCheck {}

    /** A safe path relative to the root, "/"-separated, never empty. */
    record Relative(String path) implements PathCheck {}

    record NotFound() implements Lookup {}

    private StaticFiles() {}

    /** Resolves an already percent-decoded request path ("/a/b.js") below {@code root}. */
    static Lookup resolve(Path root, String requestPath) {
        PathCheck check = relativePath(requestPath);
        if (check instanceof Refused refused) {
            return refused;
        }
        String relative = ((Relative) check).path();
        try {
            Path candidate = root.resolve(relative).normalize();
            if (!candidate.startsWith(root)) {
                return new Refused("outside the web root");
            }
            if (!Files.exists(candidate, LinkOption.NOFOLLOW_LINKS) && !Files.exists(candidate)) {
                return new NotFound();
            }
            Path real = candidate.toRealPath();
            if (!real.startsWith(root.toRealPath())) {
                return new Refused("symbolic link out of the web root");
            }
            if (!Files.isRegularFile(real) || !Files.isReadable(real)) {
                return new NotFound();
            }
            return new Found(real, Files.size(real));
        } catch (InvalidPathException e) {
            return new Refused("invalid path");
        } catch (IOException e) {
            return new NotFound();
        }
    }

    /**
     * The request path ("/a/b.js", percent-decoded) as a relative path ("a/b.js"; "/" gives {@link #INDEX}), or a
     * {@link Refused} for anything that could leave the root: "..", ".", NUL, backslash, too many segments.
     */
    static PathCheck relativePath(String requestPath) {
        if (!requestPath.startsWith("/")) {
            return new Refused("not an absolute path");
        }
        if (requestPath.indexOf('\0') >= 0 || requestPath.indexOf('\\') >= 0) {
            return new Refused("NUL or backslash in path");
        }
        String[] segments = requestPath.substring(1).split("/", -1);
        if (segments.length > MAX_SEGMENTS) {
            return new Refused("too many path segments");
        }
        StringBuilder relative = new StringBuilder();
        for (String seg : segments) {
            if (seg.equals("..") || seg.equals(".")) {
                return new Refused("dot segment");
            }
            if (seg.isEmpty()) {
                continue;
            }
            if (relative.length() > 0) {
                relative.append('/');
            }
            relative.append(seg);
        }
        if (relative.length() == 0 || requestPath.endsWith("/")) {
            relative.append(relative.length() == 0 ? INDEX : "/" + INDEX);
        }
        return new Relative(relative.toString());
    }

    static String contentType(Path file) {
        return contentType(file.getFileName().toString());
    }

    static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0) {
            return DEFAULT_TYPE;
        }
        return TYPES.getOrDefault(name.substring(dot + 1).toLowerCase(Locale.ROOT), DEFAULT_TYPE);
    }
}
