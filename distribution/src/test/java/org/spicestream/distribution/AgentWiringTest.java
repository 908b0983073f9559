package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.inject.Guice;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.device.AgentDevice;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.control.CtlCommand;
import org.spicestream.distribution.guice.SpiceStreamdModule;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.agent.VdAgent;
import org.spicestream.reds.testclient.AgentMessage;
import org.spicestream.reds.testclient.SpiceTestClient;

/**
 * {@code --agent} end to end over real sockets: spice-streamd built by Guice listens for the agent's port, a guest
 * agent played by the test connects and announces itself, a protocol-level SPICE client sees it in MAIN_INIT and
 * talks to it; {@code --disable-copy-paste} reaches the relay; the agent's meters are exported.
 */
class AgentWiringTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private SpiceStreamd app;
    private SocketChannel agent;

    @AfterEach
    void tearDown() throws IOException {
        if (agent != null) {
            agent.close();
        }
        if (app != null) {
            app.close();
        }
    }

    private SpiceStreamd start(String... args) {
        StringWriter out = new StringWriter();
        var outcome = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out), args);
        assertThat(outcome.run()).as("parsed: %s", out).isTrue();
        app = Guice.createInjector(new SpiceStreamdModule(outcome.settings())).getInstance(SpiceStreamd.class);
        app.start();
        return app;
    }

    private static ByteBuffer chunk(byte[] message) {
        ByteBuffer b = ByteBuffer.allocate(8 + message.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(VdAgent.PORT_CLIENT).putInt(message.length).put(message).flip();
        return b;
    }

    /** The next client-port chunk's payload from the server (server-port chunks skipped). */
    private byte[] readChunk() throws IOException {
        while (true) {
            ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining()) {
                if (agent.read(header) < 0) {
                    throw new IOException("closed");
                }
            }
            int port = header.getInt(0);
            ByteBuffer payload = ByteBuffer.allocate(header.getInt(4));
            while (payload.hasRemaining()) {
                agent.read(payload);
            }
            if (port == VdAgent.PORT_CLIENT) {
                return payload.array();
            }
        }
    }

    @Test
    void theAgentPortIsRelayedToClientsAndCopyPasteCanBeTurnedOff() throws Exception {
        Path socket = dir.resolve("agent.sock");
        start("--listen", "127.0.0.1:0", "--disable-ticketing", "--agent", "unix:" + socket + "?listen",
                "--disable-copy-paste", "--metrics", "127.0.0.1:0");
        AgentDevice device = app.vms().get(VmConfig.DEFAULT_VM).orElseThrow().agentDevice().orElseThrow();
        await().atMost(T).until(() -> Files.exists(socket));
        agent = SocketChannel.open(StandardProtocolFamily.UNIX);
        agent.connect(UnixDomainSocketAddress.of(socket));
        await().atMost(T).until(device::hasSession);
        agent.write(chunk(AgentMessage.announce(true, VdAgent.CAP_MONITORS_CONFIG, VdAgent.CAP_CLIPBOARD_BY_DEMAND,
                VdAgent.CAP_CLIPBOARD_SELECTION)));

        try (SpiceTestClient c = SpiceTestClient.connect(app.spiceAddress(), SpiceTestClient.options().password("")
                .channelCaps(SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS))) {
            byte[] init = c.next(SpiceMessages.MSG_MAIN_INIT).body();
            assertThat(ByteBuffer.wrap(init).order(ByteOrder.LITTLE_ENDIAN).getInt(16)).as("agent_connected").isEqualTo(1);
            c.send(SpiceMessages.MSGC_MAIN_AGENT_START, AgentMessage.u32(-1));
            c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, AgentMessage.announce(true, VdAgent.CAP_MONITORS_CONFIG,
                    VdAgent.CAP_CLIPBOARD_BY_DEMAND));
            byte[] told = readChunk();
            assertThat(AgentMessage.type(told)).isEqualTo(VdAgent.ANNOUNCE_CAPABILITIES);
            int caps = ByteBuffer.wrap(told).order(ByteOrder.LITTLE_ENDIAN).getInt(VdAgent.MESSAGE_HEADER_SIZE + 4);
            assertThat(caps & (1 << VdAgent.CAP_MONITORS_CONFIG)).isNotZero();
            assertThat(caps & (1 << VdAgent.CAP_CLIPBOARD_BY_DEMAND)).as("copy-paste is off").isZero();

            HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                    + app.metricsAddress().orElseThrow().getHostString() + ":" + app.metricsAddress().orElseThrow().getPort()
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.body()).contains("spicestream_agent_attached{device=\"agent\"")
                    .contains("spicestream_agent_sessions_total{device=\"agent\"").contains("vm=\"default\"");
        }
    }

    @Test
    void aVmDefinitionTakesAnAgentPortThroughTheControlApi() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "0123456789abcdef-token\n");
        String control = "unix:" + dir.resolve("control.sock");
        start("--listen", "127.0.0.1:0", "--control", control, "--control-token-file", token.toString());
        Path socket = dir.resolve("vm1-agent.sock");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = CtlCommand.run(new PrintWriter(out), new PrintWriter(err), "--control", control,
                "--control-token-file", token.toString(), "add", "vm1", "--device",
                "unix:" + dir.resolve("vm1.sock") + "?listen", "--agent", "unix:" + socket + "?listen",
                "--disable-copy-paste", "--disable-ticketing");
        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).contains("\"agent\":{").contains("\"copyPaste\":false");
        assertThat(app.vms().get("vm1").orElseThrow().server().agent().config().copyPaste()).isFalse();
        await().atMost(T).until(() -> Files.exists(socket));
        agent = SocketChannel.open(StandardProtocolFamily.UNIX);
        agent.connect(UnixDomainSocketAddress.of(socket));
        await().atMost(T).until(() -> app.vms().get("vm1").orElseThrow().server().agent().isAttached());
    }
}
