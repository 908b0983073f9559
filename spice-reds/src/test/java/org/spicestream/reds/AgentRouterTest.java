package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.reds.testclient.AgentMessage.announce;
import static org.spicestream.reds.testclient.AgentMessage.concat;
import static org.spicestream.reds.testclient.AgentMessage.selection;
import static org.spicestream.reds.testclient.AgentMessage.u32;

import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.spicestream.reds.agent.AgentConfig;
import org.spicestream.reds.agent.AgentMessageFramer;
import org.spicestream.reds.agent.VdAgent;
import org.spicestream.reds.testclient.AgentMessage;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestAgentPort;

/**
 * The main channel's guest agent relay over real sockets: MAIN_INIT and the AGENT_* messages, the VDI chunk pieces,
 * token flow control both ways, agent sessions that end mid-message, and the several-viewer policy.
 */
class AgentRouterTest {
    private static final Duration T = Duration.ofSeconds(10);
    /** A message type the router does not look into: forwarded to the agent as it is. */
    private static final int OPAQUE_TYPE = 100;
    private static final int[] AGENT_CAPS = {VdAgent.CAP_MONITORS_CONFIG, VdAgent.CAP_REPLY,
        VdAgent.CAP_CLIPBOARD_BY_DEMAND, VdAgent.CAP_CLIPBOARD_SELECTION, VdAgent.CAP_SPARSE_MONITORS_CONFIG,
        VdAgent.CAP_CLIPBOARD_NO_RELEASE_ON_REGRAB, VdAgent.CAP_CLIPBOARD_GRAB_SERIAL};
    private static final int[] CLIENT_CAPS = {VdAgent.CAP_MOUSE_STATE, VdAgent.CAP_MONITORS_CONFIG, VdAgent.CAP_REPLY,
        VdAgent.CAP_CLIPBOARD_BY_DEMAND, VdAgent.CAP_CLIPBOARD_SELECTION, VdAgent.CAP_CLIPBOARD_GRAB_SERIAL};

    private SpiceServer server;
    private final List<SpiceTestClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(SpiceTestClient::close);
        if (server != null) {
            server.close();
        }
    }

    private SpiceServer start(AgentConfig agent) {
        server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)).withAgent(agent));
        return server;
    }

    private SpiceServer start() {
        return start(AgentConfig.DEFAULT);
    }

    /** A main-channel client like spice-gtk: it has AGENT_CONNECTED_TOKENS. Returns after MAIN_INIT. */
    private Viewer viewer() {
        return viewer(true);
    }

    private Viewer viewer(boolean connectedTokens) {
        SpiceTestClient.Options o = SpiceTestClient.options().password("");
        if (connectedTokens) {
            o.channelCaps(SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS);
        }
        SpiceTestClient c = SpiceTestClient.connect(server.localAddress(), o);
        clients.add(c);
        return new Viewer(c, c.next(SpiceMessages.MSG_MAIN_INIT).body());
    }

    /** One client and what it does with the agent. */
    private static final class Viewer {
        final SpiceTestClient c;
        final byte[] init;
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

        Viewer(SpiceTestClient c, byte[] init) {
            this.c = c;
            this.init = init;
        }

        int initAgentConnected() {
            return le(init, 16);
        }

        int initAgentTokens() {
            return le(init, 20);
        }

        void start(long tokens) {
            c.send(SpiceMessages.MSGC_MAIN_AGENT_START, u32((int) tokens));
        }

        void startAndAnnounce(long tokens, int... caps) {
            start(tokens);
            send(announce(true, caps));
        }

        void tokens(int n) {
            c.send(SpiceMessages.MSGC_MAIN_AGENT_TOKEN, u32(n));
        }

        void send(byte[] message) {
            AgentMessage.pieces(message).forEach(this::piece);
        }

        void piece(byte[] piece) {
            c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, piece);
        }

        /** The next whole agent message, reassembled from AGENT_DATA (other messages skipped). */
        byte[] message() {
            while (true) {
                byte[] d = c.next(SpiceMessages.MSG_MAIN_AGENT_DATA).body();
                assertThat(d.length).isLessThanOrEqualTo(VdAgent.MAX_DATA_SIZE);
                partial.writeBytes(d);
                byte[] all = partial.toByteArray();
                if (all.length >= VdAgent.MESSAGE_HEADER_SIZE
                        && all.length == VdAgent.MESSAGE_HEADER_SIZE + le(all, VdAgent.HEADER_SIZE_OFFSET)) {
                    partial.reset();
                    return all;
                }
            }
        }

        /** The next message of {@code type}, skipping other agent messages. */
        byte[] message(int type) {
            while (true) {
                byte[] m = message();
                if (AgentMessage.type(m) == type) {
                    return m;
                }
            }
        }

        int nextType() {
            while (true) {
                int t = c.next().type();
                if (t != SpiceMessages.MSG_PING) {
                    return t;
                }
            }
        }
    }

    /** The attached agent: feeds guest messages the way the device does, reads what the server writes. */
    private final class Agent {
        final TestAgentPort port;
        final AgentRouter.GuestSession session;
        final AgentMessageFramer framer = new AgentMessageFramer("guest agent", AgentConfig.DEFAULT_MAX_MESSAGE_BYTES);
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

        Agent(String name) {
            port = new TestAgentPort(name);
            session = server.agent().attach(port);
            await().atMost(T).until(() -> server.agent().isAttached());
        }

        void send(byte[] message) {
            for (byte[] p : AgentMessage.pieces(message)) {
                piece(p);
            }
        }

        void piece(byte[] piece) {
            AgentMessageFramer.Framing f = framer.next(Unpooled.wrappedBuffer(piece));
            session.data(Unpooled.wrappedBuffer(piece), f, framer.remaining());
        }

        /** The next whole message on the client port (server-port chunks skipped). */
        byte[] message() {
            while (true) {
                TestAgentPort.Chunk ch = port.next(T);
                assertThat(ch.payload().length).isLessThanOrEqualTo(VdAgent.MAX_DATA_SIZE);
                if (ch.port() != VdAgent.PORT_CLIENT) {
                    continue;
                }
                partial.writeBytes(ch.payload());
                byte[] all = partial.toByteArray();
                if (all.length == VdAgent.MESSAGE_HEADER_SIZE + le(all, VdAgent.HEADER_SIZE_OFFSET)) {
                    partial.reset();
                    return all;
                }
            }
        }

        byte[] message(int type) {
            while (true) {
                byte[] m = message();
                if (AgentMessage.type(m) == type) {
                    return m;
                }
            }
        }

        void close() {
            session.close();
            await().atMost(T).until(() -> !server.agent().isAttached());
        }
    }

    private void awaitAgentClients(int n) {
        await().atMost(T).until(() -> server.agent().agentClients() == n);
    }

    private static int le(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off);
    }

    private static byte[] opaque(int size, int seed) {
        byte[] body = new byte[size];
        new Random(seed).nextBytes(body);
        return AgentMessage.of(OPAQUE_TYPE, body);
    }

    private static int[] capsOf(byte[] announceMessage) {
        byte[] body = AgentMessage.body(announceMessage);
        int[] words = new int[(body.length - 4) / 4];
        for (int i = 0; i < words.length; i++) {
            words[i] = le(body, 4 + 4 * i);
        }
        return words;
    }

    private static boolean has(int[] words, int cap) {
        return cap / 32 < words.length && (words[cap / 32] & (1 << (cap % 32))) != 0;
    }

    // ------------------------------------------------------------------ tests

    @Test
    void mainInitAndAgentConnectedDisconnectedFollowTheAgentPort() {
        start();
        Viewer modern = viewer(true);
        Viewer old = viewer(false);
        assertThat(modern.initAgentConnected()).isZero();
        assertThat(modern.initAgentTokens()).isEqualTo(AgentRouter.CLIENT_TOKENS);

        Agent agent = new Agent("agent");
        SpiceTestClient.Message connected = modern.c.next(SpiceMessages.MSG_MAIN_AGENT_CONNECTED_TOKENS);
        assertThat(le(connected.body(), 0)).isEqualTo(AgentRouter.CLIENT_TOKENS);
        assertThat(old.c.next(SpiceMessages.MSG_MAIN_AGENT_CONNECTED).body()).isEmpty();

        Viewer late = viewer(true);
        assertThat(late.initAgentConnected()).isEqualTo(1);

        agent.close();
        for (Viewer v : List.of(modern, old, late)) {
            assertThat(le(v.c.next(SpiceMessages.MSG_MAIN_AGENT_DISCONNECTED).body(), 0)).isZero();
        }
    }

    @Test
    void clientMessagesReachTheAgentAsChunksAndTokensComeBack() {
        start();
        Agent agent = new Agent("agent");
        Viewer v = viewer();
        v.start(~0L);
        byte[] big = opaque(5000, 1); // 3 pieces
        v.send(big);
        List<TestAgentPort.Chunk> got = List.of(agent.port.next(T), agent.port.next(T), agent.port.next(T));
        assertThat(got).extracting(TestAgentPort.Chunk::port).containsOnly(VdAgent.PORT_CLIENT);
        assertThat(got).extracting(ch -> ch.payload().length).containsExactly(2048, 2048, big.length - 4096);
        assertThat(concat(got.get(0).payload(), got.get(1).payload(), got.get(2).payload())).isEqualTo(big);
        v.send(opaque(10, 2));
        v.send(opaque(10, 3));
        SpiceTestClient.Message token = v.c.next(SpiceMessages.MSG_MAIN_AGENT_TOKEN);
        assertThat(le(token.body(), 0)).isEqualTo(AgentRouter.TOKENS_PER_RETURN);
    }

    @Test
    void agentDataBeyondTheTokenWindowDisconnectsOnlyThatClient() {
        start();
        Agent agent = new Agent("agent");
        agent.port.holdWrites(); // an agent that stops reading: no token comes back
        Viewer greedy = viewer();
        Viewer other = viewer();
        greedy.start(~0L);
        other.start(~0L);
        awaitAgentClients(2);
        byte[] message = opaque(2028 + 2048 * 20, 4);
        List<byte[]> pieces = AgentMessage.pieces(message);
        for (int i = 0; i < AgentRouter.CLIENT_TOKENS; i++) {
            greedy.piece(pieces.get(i));
        }
        assertThat(greedy.c.isOpen()).isTrue();
        greedy.piece(pieces.get(AgentRouter.CLIENT_TOKENS)); // the 11th without a token
        assertThat(greedy.c.awaitClosed(T)).isTrue();
        assertThat(server.agent().clientViolations()).isEqualTo(1);

        agent.port.releaseWrites();
        agent.send(AgentMessage.of(VdAgent.REPLY, u32(VdAgent.MONITORS_CONFIG, VdAgent.REPLY_SUCCESS)));
        assertThat(other.message(VdAgent.REPLY)).isNotNull();
        assertThat(other.c.isOpen()).isTrue();
    }

    @Test
    void aClientThatNeverStartedTheAgentIsCutOffAfterTheWindow() {
        start();
        new Agent("agent");
        Viewer flooder = viewer();
        byte[] first = AgentMessage.pieces(opaque(2028 + 2048 * 20, 5)).get(0);
        flooder.piece(first);
        byte[] cont = new byte[2048];
        for (int i = 1; i < AgentRouter.CLIENT_TOKENS; i++) {
            flooder.piece(cont);
        }
        assertThat(flooder.c.isOpen()).isTrue();
        flooder.piece(cont);
        assertThat(flooder.c.awaitClosed(T)).isTrue();
    }

    static List<Object[]> framingViolations() {
        byte[] header = AgentMessage.of(OPAQUE_TYPE, new byte[10]);
        byte[] twoMessages = concat(AgentMessage.of(OPAQUE_TYPE, new byte[4]), AgentMessage.of(OPAQUE_TYPE, new byte[4]));
        byte[] badProtocol = header.clone();
        badProtocol[0] = 2;
        byte[] tooLarge = Arrays.copyOf(AgentMessage.of(OPAQUE_TYPE, new byte[0]), 20);
        ByteBuffer.wrap(tooLarge).order(ByteOrder.LITTLE_ENDIAN).putInt(VdAgent.HEADER_SIZE_OFFSET, 1 << 20);
        return List.of(
                new Object[] {"first piece shorter than the header", Arrays.copyOf(header, 10)},
                new Object[] {"protocol 2", badProtocol},
                new Object[] {"one piece with two messages", twoMessages},
                new Object[] {"message larger than the bound", tooLarge});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("framingViolations")
    void framingViolationsDisconnectTheClient(String what, byte[] piece) {
        start(AgentConfig.DEFAULT.withMaxMessageBytes(64 * 1024));
        new Agent("agent");
        Viewer bad = viewer();
        Viewer good = viewer();
        bad.start(~0L);
        bad.piece(piece);
        assertThat(bad.c.awaitClosed(T)).as(what).isTrue();
        assertThat(server.agent().clientViolations()).isEqualTo(1);
        assertThat(good.c.isOpen()).isTrue();
    }

    @Test
    void aPieceLargerThanTheAgentLimitIsRefusedByTheCore() {
        start();
        new Agent("agent");
        Viewer bad = viewer();
        bad.start(~0L);
        bad.piece(Arrays.copyOf(opaque(5000, 6), VdAgent.MAX_DATA_SIZE + 1));
        assertThat(bad.c.awaitClosed(T)).isTrue();
    }

    @Test
    void agentDataToAClientFollowsItsSendTokensAndIsCutIntoPieces() {
        start();
        Agent agent = new Agent("agent");
        Viewer v = viewer();
        v.start(2);
        awaitAgentClients(1);
        byte[] reply = AgentMessage.of(VdAgent.REPLY, u32(VdAgent.MONITORS_CONFIG, VdAgent.REPLY_SUCCESS));
        agent.send(reply);
        agent.send(reply);
        agent.send(reply);
        assertThat(v.message()).isEqualTo(reply);
        assertThat(v.message()).isEqualTo(reply);
        // the third waits for a token: a round trip through the main channel shows nothing else came
        v.c.send(SpiceMessages.MSGC_MAIN_MOUSE_MODE_REQUEST, new byte[] {1, 0});
        assertThat(v.nextType()).isEqualTo(SpiceMessages.MSG_MAIN_MOUSE_MODE);
        v.tokens(10);
        assertThat(v.message()).isEqualTo(reply);

        byte[] big = opaque(5000, 7);
        agent.send(big);
        assertThat(v.message()).isEqualTo(big);
        assertThat(server.agent().piecesToClients()).isEqualTo(3 + 3);
    }

    @Test
    void anAgentSessionEndingMidMessageLeaksNothingIntoTheNextOne() {
        start();
        Agent first = new Agent("agent-1");
        Viewer v = viewer();
        assertThat(v.initAgentConnected()).isEqualTo(1);
        v.start(~0L);
        awaitAgentClients(1);

        // client → agent: the first piece of a three-piece message, then the agent goes away
        byte[] half = opaque(5000, 8);
        List<byte[]> pieces = AgentMessage.pieces(half);
        v.piece(pieces.get(0));
        assertThat(first.port.next(T).payload()).isEqualTo(pieces.get(0));

        // agent → client: the first piece of a two-piece message
        byte[] guestHalf = opaque(3000, 9);
        first.piece(AgentMessage.pieces(guestHalf).get(0));
        assertThat(v.c.next(SpiceMessages.MSG_MAIN_AGENT_DATA).body()).hasSize(2048);

        first.close();
        assertThat(v.c.next(SpiceMessages.MSG_MAIN_AGENT_DISCONNECTED).type()).isEqualTo(108);
        Agent second = new Agent("agent-2");
        assertThat(v.c.next(SpiceMessages.MSG_MAIN_AGENT_CONNECTED_TOKENS).type()).isEqualTo(115);
        // spice-gtk finishes the messages it had begun, then starts the new agent
        v.piece(pieces.get(1));
        v.piece(pieces.get(2));
        v.start(~0L);
        awaitAgentClients(1);
        byte[] fresh = opaque(3000, 10);
        v.send(fresh);
        assertThat(second.message()).as("the new agent sees the new message, not the old tail").isEqualTo(fresh);
        assertThat(first.port.chunks).as("nothing more reached the old agent").isEmpty();

        byte[] guestFresh = opaque(100, 11);
        second.send(guestFresh);
        assertThat(v.message()).isEqualTo(guestFresh);
    }

    @Test
    void theTailOfAMessageBegunBeforeARestartIsDroppedButItsTokensComeBack() {
        start();
        Agent first = new Agent("agent-1");
        Viewer v = viewer();
        v.start(~0L);
        awaitAgentClients(1);
        List<byte[]> pieces = AgentMessage.pieces(opaque(2028 + 2048 * 11, 20)); // 12 pieces
        for (int i = 0; i < 3; i++) {
            v.piece(pieces.get(i));
        }
        first.port.next(T);
        first.port.next(T);
        first.port.next(T);
        first.close();
        Agent second = new Agent("agent-2");
        v.c.next(SpiceMessages.MSG_MAIN_AGENT_CONNECTED_TOKENS);
        v.start(~0L); // the client's window is 10 again; it finishes the old message within it
        awaitAgentClients(1);
        for (int i = 3; i < 12; i++) {
            v.piece(pieces.get(i));
        }
        assertThat(le(v.c.next(SpiceMessages.MSG_MAIN_AGENT_TOKEN).body(), 0)).isEqualTo(AgentRouter.TOKENS_PER_RETURN);
        byte[] fresh = opaque(10, 21);
        v.send(fresh);
        assertThat(second.message()).as("none of the old message reached the new agent").isEqualTo(fresh);
    }

    @Test
    void messagesOfTwoClientsAreNeverInterleaved() {
        start();
        Agent agent = new Agent("agent");
        Viewer a = viewer();
        Viewer b = viewer();
        a.start(~0L);
        b.start(~0L);
        byte[] long3 = opaque(5000, 12);
        List<byte[]> pieces = AgentMessage.pieces(long3);
        byte[] shortOne = opaque(30, 13);
        a.piece(pieces.get(0));
        assertThat(agent.port.next(T).payload()).isEqualTo(pieces.get(0));
        b.send(shortOne); // arrives while a's message is half written: waits
        a.piece(pieces.get(1));
        a.piece(pieces.get(2));
        assertThat(agent.port.next(T).payload()).isEqualTo(pieces.get(1));
        assertThat(agent.port.next(T).payload()).isEqualTo(pieces.get(2));
        assertThat(agent.message()).isEqualTo(shortOne);
    }

    @Test
    void aClientLeavingMidMessageIsCompletedWithZeros() {
        start();
        Agent agent = new Agent("agent");
        Viewer a = viewer();
        Viewer b = viewer();
        a.start(~0L);
        b.start(~0L);
        byte[] message = opaque(5000, 14);
        a.piece(AgentMessage.pieces(message).get(0));
        assertThat(agent.port.next(T).payload()).hasSize(2048);
        a.c.close();
        byte[] rest = concat(agent.port.next(T).payload(), agent.port.next(T).payload());
        assertThat(rest).hasSize(message.length - 2048).containsOnly(0);
        byte[] after = opaque(40, 15);
        b.send(after);
        assertThat(agent.message()).isEqualTo(after);
    }

    @Test
    void severalViewersShareTheAgentAsOneClient() {
        start();
        Agent agent = new Agent("agent");
        agent.send(announce(true, AGENT_CAPS)); // the agent's first words
        Viewer a = viewer();
        a.startAndAnnounce(~0L, CLIENT_CAPS);
        byte[] toAgent = agent.message(VdAgent.ANNOUNCE_CAPABILITIES);
        assertThat(le(AgentMessage.body(toAgent), 0)).as("the first viewer's announcement asks for the agent's").isEqualTo(1);
        int[] told = capsOf(toAgent);
        assertThat(has(told, VdAgent.CAP_CLIPBOARD_BY_DEMAND)).isTrue();
        assertThat(has(told, VdAgent.CAP_CLIPBOARD_GRAB_SERIAL)).as("grab serials are not offered").isFalse();
        agent.send(announce(false, AGENT_CAPS));
        int[] aSees = capsOf(a.message(VdAgent.ANNOUNCE_CAPABILITIES));
        assertThat(has(aSees, VdAgent.CAP_CLIPBOARD_SELECTION)).isTrue();
        assertThat(has(aSees, VdAgent.CAP_CLIPBOARD_GRAB_SERIAL)).isFalse();
        assertThat(has(aSees, VdAgent.CAP_FILE_XFER_DISABLED)).as("file transfer is not relayed").isTrue();

        // a second viewer: its request is answered by the server; the agent only hears of new capabilities
        Viewer b = viewer();
        b.startAndAnnounce(~0L, concat2(CLIENT_CAPS, VdAgent.CAP_MAX_CLIPBOARD));
        assertThat(capsOf(b.message(VdAgent.ANNOUNCE_CAPABILITIES))).isEqualTo(aSees);
        byte[] update = agent.message(VdAgent.ANNOUNCE_CAPABILITIES);
        assertThat(le(AgentMessage.body(update), 0)).as("an update, not a new client").isZero();
        assertThat(has(capsOf(update), VdAgent.CAP_MAX_CLIPBOARD)).isTrue();

        // the guest copies: both viewers are offered its data; b pastes and only b gets it
        byte[] guestGrab = AgentMessage.of(VdAgent.CLIPBOARD_GRAB, concat(selection(0), u32(VdAgent.CLIPBOARD_UTF8_TEXT)));
        agent.send(guestGrab);
        assertThat(a.message(VdAgent.CLIPBOARD_GRAB)).isEqualTo(guestGrab);
        assertThat(b.message(VdAgent.CLIPBOARD_GRAB)).isEqualTo(guestGrab);
        byte[] request = AgentMessage.of(VdAgent.CLIPBOARD_REQUEST, concat(selection(0), u32(VdAgent.CLIPBOARD_UTF8_TEXT)));
        b.send(request);
        assertThat(agent.message()).isEqualTo(request);
        byte[] data = AgentMessage.of(VdAgent.CLIPBOARD, concat(selection(0), u32(VdAgent.CLIPBOARD_UTF8_TEXT),
                "from the guest".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        agent.send(data);
        byte[] reply = AgentMessage.of(VdAgent.REPLY, u32(VdAgent.MONITORS_CONFIG, VdAgent.REPLY_SUCCESS));
        agent.send(reply);
        assertThat(b.message()).isEqualTo(data);
        assertThat(a.message()).as("a did not ask: its next message is the broadcast reply").isEqualTo(reply);
        assertThat(b.message()).isEqualTo(reply);

        // a copies: the guest is offered a's data, b's offer of the guest's data is withdrawn
        byte[] aGrab = AgentMessage.of(VdAgent.CLIPBOARD_GRAB, concat(selection(0), u32(VdAgent.CLIPBOARD_UTF8_TEXT)));
        a.send(aGrab);
        assertThat(agent.message()).isEqualTo(aGrab);
        assertThat(b.message()).isEqualTo(AgentMessage.of(VdAgent.CLIPBOARD_RELEASE, selection(0)));
        // the guest pastes: the request goes to a, a's answer to the guest
        agent.send(request);
        assertThat(a.message()).isEqualTo(request);
        byte[] aData = AgentMessage.of(VdAgent.CLIPBOARD, concat(selection(0), u32(VdAgent.CLIPBOARD_UTF8_TEXT),
                "from a".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        a.send(aData);
        assertThat(agent.message()).isEqualTo(aData);
        // b may not release what a owns; b's next message shows the release went nowhere
        b.send(AgentMessage.of(VdAgent.CLIPBOARD_RELEASE, selection(0)));
        b.send(opaque(8, 16));
        assertThat(agent.message()).isEqualTo(opaque(8, 16));
        // b asks for the guest's clipboard while a owns it: answered empty at once by the server
        b.send(request);
        assertThat(b.message()).isEqualTo(AgentMessage.of(VdAgent.CLIPBOARD, concat(selection(0), u32(0))));

        // a leaves: the guest hears a's clipboard is gone; then b leaves: the agent's client is gone
        a.c.close();
        assertThat(agent.message()).isEqualTo(AgentMessage.of(VdAgent.CLIPBOARD_RELEASE, selection(0)));
        b.c.close();
        TestAgentPort.Chunk last = agent.port.next(T);
        assertThat(last.port()).isEqualTo(VdAgent.PORT_SERVER);
        assertThat(last.payload()).isEqualTo(AgentMessage.of(VdAgent.CLIENT_DISCONNECTED, new byte[0]));
    }

    private static int[] concat2(int[] caps, int more) {
        int[] out = Arrays.copyOf(caps, caps.length + 1);
        out[caps.length] = more;
        return out;
    }

    @Test
    void aViewerThatComesLaterIsOfferedWhatTheGuestCopiedBefore() {
        start();
        Agent agent = new Agent("agent");
        agent.send(announce(true, AGENT_CAPS));
        Viewer first = viewer();
        first.startAndAnnounce(~0L, CLIENT_CAPS);
        agent.message(VdAgent.ANNOUNCE_CAPABILITIES);
        agent.send(announce(false, AGENT_CAPS));
        byte[] guestGrab = AgentMessage.of(VdAgent.CLIPBOARD_GRAB, concat(selection(0), u32(VdAgent.CLIPBOARD_UTF8_TEXT)));
        agent.send(guestGrab);
        assertThat(first.message(VdAgent.CLIPBOARD_GRAB)).isEqualTo(guestGrab);
        first.c.close();
        assertThat(agent.port.next(T).port()).as("CLIENT_DISCONNECTED").isEqualTo(VdAgent.PORT_SERVER);

        Viewer later = viewer();
        later.startAndAnnounce(~0L, CLIENT_CAPS);
        assertThat(le(AgentMessage.body(agent.message(VdAgent.ANNOUNCE_CAPABILITIES)), 0)).isEqualTo(1);
        agent.send(announce(false, AGENT_CAPS));
        assertThat(AgentMessage.type(later.message())).isEqualTo(VdAgent.ANNOUNCE_CAPABILITIES);
        assertThat(later.message()).isEqualTo(guestGrab);
    }

    @Test
    void theGuestFollowsTheDisplaySizeOfTheOldestViewer() {
        start();
        Agent agent = new Agent("agent");
        Viewer a = viewer();
        Viewer b = viewer();
        a.start(~0L);
        awaitAgentClients(1);
        b.start(~0L);
        awaitAgentClients(2);
        byte[] bConfig = monitorsConfig(1280, 800, true);
        b.send(bConfig);
        b.send(opaque(8, 17));
        assertThat(agent.message()).as("b's size is kept, not sent").isEqualTo(opaque(8, 17));
        a.send(monitorsConfig(1024, 768, true));
        assertThat(agent.message()).as("sent without the physical sizes spice-vdagent refuses")
                .isEqualTo(monitorsConfig(1024, 768, false));
        a.c.close();
        assertThat(agent.message()).as("b's size once a left").isEqualTo(monitorsConfig(1280, 800, false));
    }

    @Test
    void aMalformedMonitorsConfigDisconnectsTheClient() {
        start();
        new Agent("agent");
        Viewer v = viewer();
        v.start(~0L);
        v.send(AgentMessage.of(VdAgent.MONITORS_CONFIG, u32(3, 0, 600, 800, 32, 0, 0))); // 3 monitors, 1 present
        assertThat(v.c.awaitClosed(T)).isTrue();
    }

    /** spice-gtk's MONITORS_CONFIG: one monitor (of 16 with the sparse capability: one here), physical size flag. */
    private static byte[] monitorsConfig(int width, int height, boolean physicalSize) {
        byte[] body = physicalSize
                ? concat(u32(1, VdAgent.MONITORS_FLAG_PHYSICAL_SIZE | 1, height, width, 32, 0, 0), new byte[] {(byte) 200, 0, (byte) 100, 1})
                : u32(1, 1, height, width, 32, 0, 0);
        return AgentMessage.of(VdAgent.MONITORS_CONFIG, body);
    }

    @Test
    void withCopyPasteDisabledNoClipboardPassesAndNoneIsAnnounced() {
        start(AgentConfig.DEFAULT.withCopyPaste(false));
        Agent agent = new Agent("agent");
        agent.send(announce(true, AGENT_CAPS));
        Viewer v = viewer();
        v.startAndAnnounce(~0L, CLIENT_CAPS);
        assertThat(has(capsOf(agent.message(VdAgent.ANNOUNCE_CAPABILITIES)), VdAgent.CAP_CLIPBOARD_BY_DEMAND)).isFalse();
        agent.send(announce(false, AGENT_CAPS));
        assertThat(has(capsOf(v.message(VdAgent.ANNOUNCE_CAPABILITIES)), VdAgent.CAP_CLIPBOARD_BY_DEMAND)).isFalse();
        v.send(AgentMessage.of(VdAgent.CLIPBOARD_GRAB, u32(VdAgent.CLIPBOARD_UTF8_TEXT)));
        v.send(opaque(8, 18));
        assertThat(agent.message()).isEqualTo(opaque(8, 18));
        agent.send(AgentMessage.of(VdAgent.CLIPBOARD_GRAB, u32(VdAgent.CLIPBOARD_UTF8_TEXT)));
        byte[] reply = AgentMessage.of(VdAgent.REPLY, u32(VdAgent.MONITORS_CONFIG, VdAgent.REPLY_SUCCESS));
        agent.send(reply);
        assertThat(v.message()).isEqualTo(reply);
    }

    @Test
    void agentDataWaitingForClientsPausesReadingFromTheAgent() throws InterruptedException {
        start();
        Agent agent = new Agent("agent");
        Viewer v = viewer();
        v.start(0); // no send tokens yet
        awaitAgentClients(1);
        byte[] reply = AgentMessage.of(OPAQUE_TYPE, new byte[2000]);
        int n = (int) (AgentRouter.GUEST_QUEUE_PAUSE_BYTES / reply.length) + 2;
        for (int i = 0; i < n; i++) {
            agent.send(reply);
        }
        assertThat(agent.port.pauses.poll(T.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).isTrue();
        v.tokens(1000);
        for (int i = 0; i < n; i++) {
            assertThat(v.message()).isEqualTo(reply);
        }
        assertThat(agent.port.pauses.poll(T.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).isFalse();
    }

    @Test
    void theAgentLearnsWhichGraphicsDeviceEachDisplayShows() {
        start();
        server.agent().displayDevice(new AgentRouter.DisplayDevice(0, 0, 1, "pci/0000/02.0"));
        Agent agent = new Agent("agent");
        agent.send(announce(true, VdAgent.CAP_MONITORS_CONFIG, VdAgent.CAP_GRAPHICS_DEVICE_INFO));
        TestAgentPort.Chunk info = agent.port.next(T);
        assertThat(info.port()).isEqualTo(VdAgent.PORT_SERVER);
        byte[] address = "pci/0000/02.0\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(info.payload()).isEqualTo(AgentMessage.of(VdAgent.GRAPHICS_DEVICE_INFO,
                concat(u32(1, 0, 0, 1, address.length), address)));
        server.agent().displayDevice(new AgentRouter.DisplayDevice(1, 0, 0, "pci/0000/03.0"));
        TestAgentPort.Chunk both = agent.port.next(T);
        assertThat(le(AgentMessage.body(both.payload()), 0)).as("count").isEqualTo(2);
    }

    @Test
    void aSecondAgentPortIsRefused() {
        start();
        Agent first = new Agent("agent-1");
        TestAgentPort second = new TestAgentPort("agent-2");
        server.agent().attach(second);
        Viewer v = viewer();
        v.start(~0L);
        v.send(opaque(8, 19));
        assertThat(first.message()).isEqualTo(opaque(8, 19));
        assertThat(second.chunks).isEmpty();
    }
}
