package org.spicestream.distribution.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code spice-streamd ctl}: the control API's command-line client ({@code list}, {@code get}, {@code add},
 * {@code remove}, {@code password}). Prints the API's JSON answer; exit code 0 for a 2xx answer, 1 otherwise (the
 * error message on standard error), 2 for a usage error.
 */
@Command(name = CtlCommand.NAME, mixinStandardHelpOptions = true, sortOptions = false,
        description = "Adds, lists, removes VMs of a running spice-streamd through its control API.",
        subcommands = {CtlCommand.ListVms.class, CtlCommand.Get.class, CtlCommand.Add.class, CtlCommand.Remove.class,
            CtlCommand.Password.class})
public final class CtlCommand {

    /** The sub-command's name. */
    public static final String NAME = "ctl";
    /** Default control address (as the systemd unit starts the server). */
    public static final String DEFAULT_CONTROL = "unix:/run/spice-streamd/control.sock";
    /** Timeout of one request (adding a VM waits for its devices). */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Largest answer read. */
    public static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

    @Option(names = "--control", paramLabel = "ADDR", defaultValue = DEFAULT_CONTROL,
            description = "the server's --control address (default: ${DEFAULT-VALUE})")
    String control;

    @Option(names = "--control-token-file", paramLabel = "FILE",
            description = "file with the server's bearer token (first line)")
    Path tokenFile;

    PrintWriter out;
    PrintWriter err;

    /** An HTTP answer. */
    record Response(int status, String body) {}

    /** Runs with {@code args}; returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CtlCommand cmd = new CtlCommand();
        cmd.out = out;
        cmd.err = err;
        CommandLine cl = new CommandLine(cmd).setOut(out).setErr(err)
                .setExecutionExceptionHandler((e, line, parsed) -> {
                    err.println("spice-streamd ctl: " + e.getMessage());
                    err.flush();
                    return 1;
                });
        if (args.length == 0) {
            cl.usage(err);
            return 2;
        }
        return cl.execute(args);
    }

    int request(String method, String path, Map<String, Object> body) throws IOException {
        Response r = send(method, path, body == null ? null : ControlJson.write(body));
        if (r.status() >= 200 && r.status() < 300) {
            if (!r.body().isBlank()) {
                out.print(r.body());
            }
            out.flush();
            return 0;
        }
        String message = r.body();
        try {
            Object e = ControlJson.object(r.body().getBytes(StandardCharsets.UTF_8)).get("error");
            if (e != null) {
                message = e.toString();
            }
        } catch (IllegalArgumentException notJson) {
            // print the body as it is
        }
        err.println("spice-streamd ctl: " + r.status() + ": " + message.strip());
        err.flush();
        return 1;
    }

    /** One request over a fresh connection ({@code Connection: close}). */
    Response send(String method, String path, String json) throws IOException {
        ControlAddress address = ControlAddress.parse(control);
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                .append("Host: spice-streamd\r\nConnection: close\r\nUser-Agent: spice-streamd-ctl\r\n");
        if (tokenFile != null) {
            String token = new String(CtlFiles.firstLine(tokenFile));
            head.append("Authorization: Bearer ").append(token).append("\r\n");
        }
        byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
        if (json != null) {
            head.append("Content-Type: application/json\r\n");
        }
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        byte[] request = concat(head.toString().getBytes(StandardCharsets.UTF_8), body);
        byte[] answer;
        if (address.socket() != null) {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(address.socket()));
                ch.write(ByteBuffer.wrap(request));
                answer = readAll(Channels.newInputStream(ch));
            }
        } else {
            try (Socket s = new Socket()) {
                InetSocketAddress a = address.tcp().toSocketAddress();
                s.connect(a, (int) TIMEOUT.toMillis());
                s.setSoTimeout((int) TIMEOUT.toMillis());
                s.getOutputStream().write(request);
                answer = readAll(s.getInputStream());
            }
        }
        String text = new String(answer, StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.") || end < 0 || text.length() < 12) {
            throw new IOException("not an HTTP answer from " + control);
        }
        return new Response(Integer.parseInt(text.substring(9, 12)), text.substring(end + 4));
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) >= 0) {
            b.write(buf, 0, n);
            if (b.size() > MAX_RESPONSE_BYTES) {
                throw new IOException("answer larger than " + MAX_RESPONSE_BYTES + " bytes");
            }
        }
        return b.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Command(name = "list", description = "Lists the VMs (JSON).")
    static final class ListVms implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Override
        public Integer call() throws IOException {
            return ctl.request("GET", ControlServer.PREFIX, null);
        }
    }

    @Command(name = "get", description = "Shows one VM (JSON).")
    static final class Get implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws IOException {
            return ctl.request("GET", ControlServer.PREFIX + "/" + name, null);
        }
    }

    @Command(name = "remove", description = "Removes a VM: its viewers are disconnected, its devices closed.")
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws IOException {
            return ctl.request("DELETE", ControlServer.PREFIX + "/" + name, null);
        }
    }

    /** The authentication options of add and password. */
    static final class AuthOptions {
        @Option(names = "--password-file", paramLabel = "FILE", description = "the VM's password (first line)")
        Path passwordFile;

        @Option(names = "--disable-ticketing", description = "no password for this VM")
        boolean disableTicketing;

        @Option(names = "--password-expiry", paramLabel = "WHEN", description = "ISO instant or duration (30m, 2h)")
        String passwordExpiry;

        void putInto(Map<String, Object> body) {
            if (passwordFile != null) {
                // the server reads the file (it may not be readable here), so send the path as given, made absolute
                body.put("passwordFile", passwordFile.toAbsolutePath().toString());
            }
            if (disableTicketing) {
                body.put("disableTicketing", true);
            }
            if (passwordExpiry != null) {
                body.put("passwordExpiry", passwordExpiry);
            }
        }
    }

    @Command(name = "add", description = "Adds or replaces a VM.")
    static final class Add implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--device", paramLabel = "URI", required = true, split = ",",
                description = "a stream device (monitor), repeatable, in display order")
        List<String> devices = new ArrayList<>();

        @Option(names = "--listen", paramLabel = "HOST:PORT", description = "the VM's own plain port (optional)")
        String listen;

        @Option(names = "--tls-listen", paramLabel = "HOST:PORT", description = "the VM's own TLS port (optional)")
        String tlsListen;

        @Option(names = "--session-policy", paramLabel = "replace|share", description = "default: replace")
        String sessionPolicy;

        @Option(names = "--agent", paramLabel = "URI", description = "the guest agent's port (optional)")
        String agent;

        @Option(names = "--disable-copy-paste", description = "do not relay the clipboard with the agent")
        boolean disableCopyPaste;

        @CommandLine.ArgGroup(exclusive = false)
        AuthOptions auth = new AuthOptions();

        @Override
        public Integer call() throws IOException {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("devices", devices);
            if (listen != null) {
                body.put("listen", listen);
            }
            if (tlsListen != null) {
                body.put("tlsListen", tlsListen);
            }
            if (sessionPolicy != null) {
                body.put("sessionPolicy", sessionPolicy);
            }
            if (agent != null) {
                body.put("agent", agent);
            }
            if (disableCopyPaste) {
                body.put("copyPaste", false);
            }
            (auth == null ? new AuthOptions() : auth).putInto(body);
            return ctl.request("PUT", ControlServer.PREFIX + "/" + name, body);
        }
    }

    @Command(name = "password", description = "Rotates a VM's password; connected viewers stay.")
    static final class Password implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(paramLabel = "NAME")
        String name;

        @CommandLine.ArgGroup(exclusive = false)
        AuthOptions auth = new AuthOptions();

        @Override
        public Integer call() throws IOException {
            Map<String, Object> body = new LinkedHashMap<>();
            (auth == null ? new AuthOptions() : auth).putInto(body);
            return ctl.request("POST", ControlServer.PREFIX + "/" + name + "/password", body);
        }
    }
}
