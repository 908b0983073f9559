package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.spicestream.reds.AgentRouter;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.agent.VdAgent;
import org.spicestream.reds.testclient.AgentMessage;
import org.spicestream.reds.testclient.SpiceTestClient;

/**
 * The agent port as a char device over a real (in-VM) transport: VDI chunks both ways, an agent session per port
 * opening, nothing of one session in the next, the error state for an agent that breaks the framing, and a guest
 * that stops reading holding back the clients' tokens.
 */
class AgentDeviceTest {
    private static final Duration T = Duration.ofSeconds(10);

    private EventLoopGroup group;
    private LocalGuestTransport transport;
    private SpiceServer server;
    private AgentDevice device;
    private final List<SpiceTestClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        transport = new LocalGuestTransport(group, "agent-device-test");
        server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)));
        device = new AgentDevice("agent", transport, server.agent());
        device.start();
    }

    @AfterEach
    void stop() {
        clients.forEach(SpiceTestClient::close);
        device.close();
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private SpiceTestClient viewer() {
        SpiceTestClient c = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options().password("")
                .channelCaps(SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS));
        clients.add(c);
        c.next(SpiceMessages.MSG_MAIN_INIT);
        return c;
    }

    private void startAgent(SpiceTestClient c, int clientsWithAgent) {
        c.send(SpiceMessages.MSGC_MAIN_AGENT_START, AgentMessage.u32(-1));
        await().atMost(T).until(() -> server.agent().agentClients() == clientsWithAgent);
    }

    private static String bytes(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static byte[] chunk(int port, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(port).putInt(payload.length).put(payload);
        return b.array();
    }

    private static byte[] opaque(int size, int seed) {
        byte[] body = new byte[size];
        new Random(seed).nextBytes(body);
        return AgentMessage.of(100, body);
    }

    private static byte[] received(SpiceTestClient c, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < length) {
            byte[] piece = c.next(SpiceMessages.MSG_MAIN_AGENT_DATA).body();
            assertThat(piece.length).isLessThanOrEqualTo(VdAgent.MAX_DATA_SIZE);
            out.writeBytes(piece);
        }
        return out.toByteArray();
    }

    private LocalGuest agentConnects() {
        LocalGuest guest = LocalGuest.connect(group, transport.address());
        await().atMost(T).until(() -> server.agent().isAttached());
        return guest;
    }

    @Test
    void chunksTravelBothWaysInPiecesOfAtMost2048Bytes() {
        LocalGuest guest = agentConnects();
        SpiceTestClient c = viewer();
        startAgent(c, 1);

        byte[] big = opaque(5000, 1);
        byte[] stream = AgentMessage.concat(chunk(VdAgent.PORT_SERVER, opaque(4, 2)), chunk(VdAgent.PORT_CLIENT, big));
        guest.send(bytes(Arrays.copyOf(stream, 1000))); // a read boundary inside the header region of the chunk
        guest.send(bytes(Arrays.copyOfRange(stream, 1000, stream.length)));
        assertThat(received(c, big.length)).isEqualTo(big);

        byte[] toGuest = opaque(3000, 3);
        AgentMessage.pieces(toGuest).forEach(p -> c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, p));
        byte[] expected = AgentMessage.concat(chunk(VdAgent.PORT_CLIENT, Arrays.copyOf(toGuest, 2048)),
                chunk(VdAgent.PORT_CLIENT, Arrays.copyOfRange(toGuest, 2048, toGuest.length)));
        await().atMost(T).until(() -> guest.received().length() >= expected.length);
        assertThat(guest.received().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(expected);
        assertThat(device.chunksIn()).isEqualTo(2);
    }

    @Test
    void theAgentGoingAwayMidChunkEndsItsSessionCleanly() {
        LocalGuest first = agentConnects();
        SpiceTestClient c = viewer();
        startAgent(c, 1);
        byte[] half = chunk(VdAgent.PORT_CLIENT, opaque(3000, 4));
        first.send(bytes(Arrays.copyOf(half, 2100))); // one piece forwarded, the rest never comes
        assertThat(c.next(SpiceMessages.MSG_MAIN_AGENT_DATA).body()).hasSize(2048);
        first.close();
        assertThat(c.next(SpiceMessages.MSG_MAIN_AGENT_DISCONNECTED).type()).isEqualTo(108);
        await().atMost(T).until(() -> !server.agent().isAttached());

        LocalGuest second = agentConnects();
        assertThat(c.next(SpiceMessages.MSG_MAIN_AGENT_CONNECTED_TOKENS).type()).isEqualTo(115);
        startAgent(c, 1);
        byte[] fresh = opaque(100, 5);
        second.send(bytes(chunk(VdAgent.PORT_CLIENT, fresh)));
        assertThat(received(c, fresh.length)).as("the new session's message, nothing of the old one").isEqualTo(fresh);
        assertThat(device.sessions()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"unknown port", "header cut by the chunk", "protocol 2", "two messages in one chunk"})
    void anAgentBreakingTheFramingIsDroppedAndMayComeBack(String what) {
        LocalGuest bad = agentConnects();
        SpiceTestClient c = viewer();
        startAgent(c, 1);
        byte[] ok = opaque(8, 6);
        byte[] wrong = switch (what) {
            case "unknown port" -> chunk(5, ok);
            case "header cut by the chunk" -> chunk(VdAgent.PORT_CLIENT, Arrays.copyOf(ok, 12));
            case "protocol 2" -> {
                byte[] b = ok.clone();
                b[0] = 2;
                yield chunk(VdAgent.PORT_CLIENT, b);
            }
            default -> chunk(VdAgent.PORT_CLIENT, AgentMessage.concat(ok, ok));
        };
        bad.send(bytes(wrong));
        assertThat(c.next(SpiceMessages.MSG_MAIN_AGENT_DISCONNECTED).type()).isEqualTo(108);
        await().atMost(T).until(bad::isClosed);
        assertThat(device.protocolErrors()).isEqualTo(1);
        assertThat(c.isOpen()).as("the client is not to blame").isTrue();

        LocalGuest good = agentConnects();
        c.next(SpiceMessages.MSG_MAIN_AGENT_CONNECTED_TOKENS);
        startAgent(c, 1);
        good.send(bytes(chunk(VdAgent.PORT_CLIENT, ok)));
        assertThat(received(c, ok.length)).isEqualTo(ok);
    }

    @Test
    void aGuestThatStopsReadingHoldsBackTheClientsTokens() throws Exception {
        agentConnects();
        SpiceTestClient c = viewer();
        startAgent(c, 1);
        transport.setGuestBusy(true);
        byte[] message = opaque(2028 + 2048 * 20, 7);
        List<byte[]> pieces = AgentMessage.pieces(message);
        for (int i = 0; i < AgentRouter.CLIENT_TOKENS; i++) {
            c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, pieces.get(i));
        }
        await().atMost(T).until(() -> device.queuedWrites() == AgentRouter.CLIENT_TOKENS);
        assertThat(c.isOpen()).isTrue();
        c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, pieces.get(AgentRouter.CLIENT_TOKENS));
        assertThat(c.awaitClosed(T)).as("the 11th AGENT_DATA without a token").isTrue();
    }
}
