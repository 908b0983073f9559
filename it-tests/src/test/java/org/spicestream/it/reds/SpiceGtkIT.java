package org.spicestream.it.reds;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.RedChannelClient;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.testclient.RecordingInputSink;
import org.spicestream.reds.testclient.TestChannel;
import org.spicestream.testsupport.ExternalTools;

/**
 * The SPICE server core against the real spice-gtk client (GObject bindings driven from Python):
 * link with and without password, refusal of a wrong password, the channel list, a channel registered
 * after the client connected, and keyboard + mouse over the inputs channel.
 */
class SpiceGtkIT {
    private static final Logger LOG = LoggerFactory.getLogger(SpiceGtkIT.class);
    private static final Duration T = Duration.ofSeconds(30);
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    static Path tmp;
    private static Path probe;

    private SpiceServer server;
    private Probe client;

    @BeforeAll
    static void tools() throws IOException, InterruptedException {
        ExternalTools.require(PYTHON, "python3-gi");
        Process check = new ProcessBuilder(PYTHON, "-c",
                "import gi; gi.require_version('SpiceClientGLib','2.0'); from gi.repository import SpiceClientGLib")
                .redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ExternalTools.check(check.waitFor() == 0, "spice-gtk GObject bindings (gir1.2-spiceclientglib-2.0): " + out.trim());
        probe = tmp.resolve("spice_probe.py");
        try (InputStream in = SpiceGtkIT.class.getResourceAsStream("/spice-gtk/spice_probe.py")) {
            Files.copy(in, probe, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private SpiceServer start(ServerConfig c) {
        server = SpiceServer.start(c.withListen(ListenConfig.of("127.0.0.1", 0)));
        return server;
    }

    @Test
    void noPasswordChannelListLateChannelAndInputs() throws Exception {
        RecordingInputSink sink = new RecordingInputSink();
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.TICKETING_DISABLED).withInputSink(sink));
        client = Probe.start(server, null);
        String startLine = client.await("\"event\":\"start\"");
        LOG.info("probe: {}", startLine);
        client.await("\"event\":\"channel-event\",\"type\":1,\"id\":0,\"what\":\"opened\"");
        // CHANNELS_LIST: the inputs channel the server registers itself
        client.await("\"event\":\"channel-new\",\"type\":3,\"id\":0");
        client.await("\"event\":\"channel-event\",\"type\":3,\"id\":0,\"what\":\"opened\"");

        // keyboard and mouse reach the input sink
        client.await("\"event\":\"inputs-sent\"");
        assertThat(sink.nextStartingWith("press", T)).isEqualTo("press 1e");
        assertThat(sink.nextStartingWith("release", T)).isEqualTo("release 1e");
        String motion = sink.nextStartingWith("motion", T);
        assertThat(motion).matches("motion \\d+ -?\\d+ 0");

        // a channel registered while the client is connected is announced, and the client opens it
        TestChannel display = new TestChannel(SpiceChannelType.DISPLAY, true, 4096);
        int id = server.channels().register(display);
        assertThat(id).isZero();
        client.await("\"event\":\"channel-new\",\"type\":2,\"id\":0");
        client.await("\"event\":\"channel-event\",\"type\":2,\"id\":0,\"what\":\"opened\"");
        RedChannelClient rcc = display.connected.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(rcc).as("display channel linked by spice-gtk").isNotNull();
        assertThat(client.lines()).filteredOn(l -> l.contains("\"channel-new\"")).hasSize(3); // main, inputs, display
    }

    @Test
    void rightPasswordConnects() throws Exception {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("s3cret")));
        client = Probe.start(server, "s3cret");
        client.await("\"event\":\"channel-event\",\"type\":1,\"id\":0,\"what\":\"opened\"");
        client.await("\"event\":\"channel-event\",\"type\":3,\"id\":0,\"what\":\"opened\"");
        assertThat(server.sessions()).hasSize(1);
    }

    @Test
    void wrongPasswordIsRefused() throws Exception {
        start(ServerConfig.DEFAULT.withAuth(AuthConfig.password("s3cret")));
        client = Probe.start(server, "wrong");
        String event = client.await("\"event\":\"channel-event\",\"type\":1,\"id\":0,\"what\":\"error-");
        assertThat(event).contains("error-auth");
        assertThat(client.lines()).noneMatch(l -> l.contains("\"what\":\"opened\""));
        assertThat(server.sessions()).isEmpty();
    }

    /** The running probe process and the JSON lines it printed. */
    static final class Probe implements AutoCloseable {
        private final Process process;
        private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        private final List<String> all = new CopyOnWriteArrayList<>();

        private Probe(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        LOG.info("probe> {}", line);
                        if (line.startsWith("{")) {
                            all.add(line);
                            queue.add(line);
                        }
                    }
                } catch (IOException e) {
                    LOG.debug("probe output closed", e);
                }
            }, "spice-probe-reader");
            reader.setDaemon(true);
            reader.start();
            Thread err = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        LOG.info("probe stderr> {}", line);
                    }
                } catch (IOException e) {
                    LOG.debug("probe stderr closed", e);
                }
            }, "spice-probe-stderr");
            err.setDaemon(true);
            err.start();
        }

        static Probe start(SpiceServer server, String password) throws IOException {
            List<String> cmd = new java.util.ArrayList<>(List.of(PYTHON, probe.toString(),
                    server.localAddress().getAddress().getHostAddress(), String.valueOf(server.localAddress().getPort()),
                    "--timeout", "60"));
            if (password != null) {
                cmd.add("--password");
                cmd.add(password);
            }
            return new Probe(new ProcessBuilder(cmd).start());
        }

        /** Waits for a line containing {@code fragment} (earlier lines are kept in {@link #lines()}). */
        String await(String fragment) throws InterruptedException {
            long deadline = System.nanoTime() + T.toNanos();
            for (String l : all) {
                if (l.contains(fragment)) {
                    return l;
                }
            }
            while (true) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    throw new AssertionError("spice-gtk probe did not report " + fragment + " within " + T + "; saw " + all);
                }
                if (line.contains(fragment)) {
                    return line;
                }
            }
        }

        List<String> lines() {
            return List.copyOf(all);
        }

        @Override
        public void close() {
            try (OutputStream in = process.getOutputStream()) {
                in.write("quit\n".getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                LOG.debug("probe stdin closed", e);
            }
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
