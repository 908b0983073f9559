package org.spicestream.transport.virtio.internal;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A parsed {@code virtio:/path/to/chardev.sock[?qmp=/path/to/qmp.sock[&port=ID]]} device URI.
 *
 * @param chardev the unix socket QEMU listens on for the port's host end ({@code -chardev socket,server=on})
 * @param qmp the QMP socket for port events and input, or null
 * @param portId the {@code -device virtserialport,id=} of the port, or null to discover it through QMP (the
 *     virtserialport whose chardev is {@code chardev})
 */
public record VirtioEndpoint(Path chardev, Path qmp, String portId) {

    /** Longest Unix socket path in bytes: {@code sun_path} holds 108 bytes including the terminating NUL. */
    public static final int MAX_UNIX_PATH_BYTES = 107;

    /** Longest accepted port id; QEMU ids are short identifiers. */
    public static final int MAX_PORT_ID_LENGTH = 128;

    /** What QEMU accepts as a device id: a letter, then letters, digits, '-', '.', '_'. */
    private static final Pattern PORT_ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]*");

    /** Parses {@code uri}; the message of the exception says what is wrong and what is expected. */
    public static VirtioEndpoint parse(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("virtio")) {
            throw bad(uri, "scheme must be virtio");
        }
        if (uri.isOpaque() || uri.getPath() == null || !uri.getPath().startsWith("/")) {
            throw bad(uri, "an absolute path is required: virtio:/path/to/chardev.sock[?qmp=/path/to/qmp.sock"
                    + "[&port=ID]]");
        }
        if (uri.getRawAuthority() != null) {
            throw bad(uri, "a host is not allowed: virtio:/path/to/chardev.sock");
        }
        if (uri.getFragment() != null) {
            throw bad(uri, "fragments are not allowed");
        }
        Path chardev = socketPath(uri, "chardev socket", uri.getPath());
        Path qmp = null;
        String port = null;
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String param : query.split("&")) {
                int eq = param.indexOf('=');
                String key = eq < 0 ? param : param.substring(0, eq);
                String value = eq < 0 ? "" : URLDecoder.decode(param.substring(eq + 1), StandardCharsets.UTF_8);
                switch (key) {
                    case "qmp" -> {
                        if (qmp != null) {
                            throw bad(uri, "qmp given twice");
                        }
                        if (!value.startsWith("/")) {
                            throw bad(uri, "qmp needs an absolute socket path: ?qmp=/path/to/qmp.sock");
                        }
                        qmp = socketPath(uri, "QMP socket", value);
                    }
                    case "port" -> {
                        if (port != null) {
                            throw bad(uri, "port given twice");
                        }
                        if (value.length() > MAX_PORT_ID_LENGTH || !PORT_ID.matcher(value).matches()) {
                            throw bad(uri, "port must be a QEMU device id (the id= of -device virtserialport),"
                                    + " got '" + value + "'");
                        }
                        port = value;
                    }
                    default -> throw bad(uri, "unknown parameter '" + key + "'; supported: qmp, port");
                }
            }
        }
        if (port != null && qmp == null) {
            throw bad(uri, "port only makes sense with qmp: ?qmp=/path/to/qmp.sock&port=ID");
        }
        return new VirtioEndpoint(chardev, qmp, port);
    }

    private static Path socketPath(URI uri, String what, String path) {
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_UNIX_PATH_BYTES) {
            throw bad(uri, "the " + what + " path is " + bytes + " bytes long; Unix sockets allow at most "
                    + MAX_UNIX_PATH_BYTES);
        }
        return Path.of(path);
    }

    private static IllegalArgumentException bad(URI uri, String why) {
        return new IllegalArgumentException("invalid virtio device URI '" + uri + "': " + why);
    }

    /** For logs: {@code virtio /run/vm/stream.sock qmp /run/vm/qmp.sock port stream0}. */
    public String describe() {
        StringBuilder sb = new StringBuilder("virtio ").append(chardev);
        if (qmp != null) {
            sb.append(" qmp ").append(qmp).append(" port ").append(portId == null ? "(discovered)" : portId);
        }
        return sb.toString();
    }
}
