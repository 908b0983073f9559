package org.spicestream.it.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.clients.Xvfb;
import org.spicestream.device.AgentDevice;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.Transports;
import org.spicestream.it.robustness.Resources;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.agent.VdAgent;
import org.spicestream.reds.testclient.AgentMessage;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.transport.socket.SocketEventLoops;

/**
 * The guest agent end to end with the real programs: Debian's spice-vdagent (daemon + X11 session agent on Xvfb,
 * its virtio port a pty bridged by socat) behind the agent port, spice-gtk's main channel in front: the clipboard
 * both ways with 1 MiB of text, a monitor configuration that resizes the Xvfb screen through RandR, the agent
 * restarting in the middle of a transfer, several viewers, and clients that flood AGENT_DATA.
 */
class VdagentIT {
    private static final Logger LOG = LoggerFactory.getLogger(VdagentIT.class);
    private static final Duration T = Duration.ofSeconds(30);
    /** The Xvfb screen at start: the largest size RandR can set later. */
    // the largest screen RandR may set
    private static final int SCREEN_WIDTH = 1920;
    private static final int SCREEN_HEIGHT = 1200;
    private static final int MIB = 1024 * 1024;
    /** Heap or direct memory may move by this much across the flood without anything piling up. */
    private static final long MEMORY_TOLERANCE = Resources.HEAP_TOLERANCE;
    /** Flooders before the memory is measured, so that pool growth on first use is not counted. */
    private static final int WARM_UP_FLOODERS = 4;
    /** Message size a flooding client announces (it never sends that much). */
    private static final int FLOOD_MESSAGE_BYTES = 4 * MIB;

    @TempDir
    static Path dir;
    private static Xvfb xvfb;
    private static MultiThreadIoEventLoopGroup loops;
    private static SpiceServer server;
    private static AgentDevice device;
    private static RealVdagent agent;

    private final List<AgentProbe> probes = new ArrayList<>();
    private final List<Process> helpers = new ArrayList<>();

    @BeforeAll
    static void startAll() throws Exception {
        RealVdagent.require();
        AgentProbe.require();
        xvfb = Xvfb.start(SCREEN_WIDTH, SCREEN_HEIGHT, dir.resolve("xvfb.log"));
        loops = SocketEventLoops.newGroup(2);
        server = SpiceServer.start(ServerConfig.loopbackWithoutTicketing()
                .withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE)));
        Path socket = dir.resolve("agent.sock");
        device = new AgentDevice("agent", Transports.load().create(URI.create("unix:" + socket + "?listen"),
                TransportContext.of(loops, "agent")), server.agent());
        device.start();
        await().atMost(T).until(() -> Files.exists(socket));
        agent = new RealVdagent(dir, socket, xvfb.display()).start();
        await().atMost(T).until(() -> server.agent().isAttached());
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (agent != null) {
            agent.stop();
        }
        if (device != null) {
            device.close();
        }
        if (server != null) {
            server.close();
        }
        if (loops != null) {
            loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (xvfb != null) {
            xvfb.close();
        }
    }

    @AfterEach
    void stopProbes() throws InterruptedException {
        for (AgentProbe p : probes) {
            p.close();
        }
        for (Process p : helpers) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        await().atMost(T).until(() -> server.sessions().isEmpty());
        assertThat(server.internalErrors()).as("connections closed for a bug").isZero();
    }

    private AgentProbe probe(String name) throws Exception {
        AgentProbe p = AgentProbe.start(name, server.localAddress(), dir);
        probes.add(p);
        p.awaitAgentReady();
        return p;
    }

    /** About 1 MiB of UTF-8 text (multi-byte characters, lines) from {@code seed}. */
    private static Path text(String name, int bytes, int seed) throws IOException {
        String[] words = {"alpha", "beta", "Grüße", "日本語", "ünïcødé", "x", "0123456789", "\t", "\n"};
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder();
        while (b.toString().getBytes(StandardCharsets.UTF_8).length < bytes - 64 || b.length() < bytes / 4) {
            for (int i = 0; i < 4096; i++) {
                b.append(words[r.nextInt(words.length)]).append(' ');
            }
            if (b.length() > bytes) {
                break;
            }
        }
        byte[] all = b.toString().getBytes(StandardCharsets.UTF_8);
        String cut = new String(all, 0, Math.min(all.length, bytes), StandardCharsets.UTF_8).replace("\uFFFD", "");
        Path f = dir.resolve(name);
        Files.writeString(f, cut);
        return f;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** The guest copies {@code file} (xclip keeps the selection while it runs). */
    private void guestCopies(Path file) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("xclip", "-quiet", "-selection", "clipboard", "-i", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("xclip-in.log").toFile());
        pb.environment().put("DISPLAY", xvfb.display());
        helpers.add(pb.start());
    }

    /** What the guest pastes (the clipboard as an X application reads it), or null if the paste failed. */
    private byte[] guestPastes() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("xclip", "-o", "-selection", "clipboard")
                .redirectError(dir.resolve("xclip-out.err").toFile());
        pb.environment().put("DISPLAY", xvfb.display());
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(T.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return null;
        }
        return p.exitValue() == 0 ? out : null;
    }

    /** Waits until the guest's clipboard offers text from the agent (the client's grab reached the X server). */
    private void awaitGuestOffersText() {
        await().atMost(T).pollInterval(Duration.ofMillis(100)).until(() -> {
            ProcessBuilder pb = new ProcessBuilder("xclip", "-o", "-selection", "clipboard", "-t", "TARGETS")
                    .redirectErrorStream(true);
            pb.environment().put("DISPLAY", xvfb.display());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(T.toSeconds(), TimeUnit.SECONDS) && p.exitValue() == 0 && out.contains("UTF8_STRING");
        });
    }

    private void awaitGuestPastes(byte[] expected) {
        byte[][] last = new byte[1][];
        await().atMost(T).pollInterval(Duration.ofMillis(200)).until(() -> {
            last[0] = guestPastes();
            return last[0] != null && java.util.Arrays.equals(last[0], expected);
        });
    }

    private static final Pattern CURRENT = Pattern.compile("current (\\d+) x (\\d+)");

    private String screenSize() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("xrandr").redirectErrorStream(true);
        pb.environment().put("DISPLAY", xvfb.display());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(T.toSeconds(), TimeUnit.SECONDS);
        Matcher m = CURRENT.matcher(out);
        return m.find() ? m.group(1) + "x" + m.group(2) : out;
    }

    // ------------------------------------------------------------------ tests

    @Test
    void whatTheGuestCopiesSpiceGtkPastesIntact() throws Exception {
        AgentProbe viewer = probe("viewer");
        Path text = text("guest-copy.txt", MIB, 1);
        byte[] expected = Files.readAllBytes(text);
        guestCopies(text);
        viewer.await("\"event\":\"guest-grab\",\"selection\":0,\"types\":[" + VdAgent.CLIPBOARD_UTF8_TEXT);
        Path got = dir.resolve("pasted-by-spice-gtk.txt");
        long t0 = System.nanoTime();
        viewer.command("request " + got);
        String clip = viewer.await("\"event\":\"clipboard\"");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(clip).contains("\"size\":" + expected.length).contains(sha256(expected));
        assertThat(Files.readAllBytes(got)).isEqualTo(expected);
        LOG.info("guest → spice-gtk: {} bytes intact, {} ms from spice-gtk's request to its clipboard signal",
                expected.length, ms);
    }

    @Test
    void whatSpiceGtkCopiesTheGuestPastesIntact() throws Exception {
        AgentProbe viewer = probe("viewer");
        Path text = text("client-copy.txt", MIB, 2);
        byte[] expected = Files.readAllBytes(text);
        viewer.command("grab " + text);
        viewer.await("\"event\":\"client-grabbed\"");
        awaitGuestPastes(expected);
        assertThat(viewer.lines()).anyMatch(l -> l.contains("\"event\":\"answered\",\"size\":" + expected.length));
        long t0 = System.nanoTime();
        byte[] again = guestPastes();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(again).isEqualTo(expected);
        LOG.info("spice-gtk → guest: {} bytes intact, a paste in the guest (xclip -o) takes {} ms", expected.length, ms);
    }

    @Test
    void spiceGtksMonitorConfigResizesTheXvfbScreen() throws Exception {
        AgentProbe viewer = probe("viewer");
        long t0 = System.nanoTime();
        viewer.command("monitor 1024 768");
        viewer.await("\"event\":\"monitor-sent\"");
        await().atMost(T).pollInterval(Duration.ofMillis(20)).until(() -> screenSize().equals("1024x768"));
        LOG.info("monitor config → Xvfb at 1024x768 within {} ms (polled every 20 ms)",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        viewer.command("monitor 1280 720");
        await().atMost(T).pollInterval(Duration.ofMillis(200)).until(() -> screenSize().equals("1280x720"));
        assertThat(agent.logs()).doesNotContain("invalid message size");
    }

    @Test
    void theAgentRestartingMidTransferLeavesNothingBehind() throws Exception {
        AgentProbe viewer = probe("viewer");
        long sessionsBefore = device.sessions();
        Path big = text("restart-copy.txt", MIB, 3);
        viewer.command("grab " + big);
        viewer.await("\"event\":\"client-grabbed\"");
        awaitGuestOffersText();
        // the guest pastes: spice-gtk starts sending 1 MiB, and the agent goes away in the middle
        ProcessBuilder paste = new ProcessBuilder("xclip", "-o", "-selection", "clipboard")
                .redirectOutput(dir.resolve("interrupted-paste.out").toFile()).redirectErrorStream(true);
        paste.environment().put("DISPLAY", xvfb.display());
        helpers.add(paste.start());
        viewer.await("\"event\":\"guest-request\"");
        agent.stop();
        viewer.await("\"event\":\"agent\",\"connected\":false");
        await().atMost(T).until(() -> !server.agent().isAttached());

        agent.start();
        viewer.awaitAgentReady();
        assertThat(device.sessions()).isEqualTo(sessionsBefore + 1);

        // both directions work in the new session, and the new agent saw nothing of the old transfer
        Path guestText = text("after-restart-guest.txt", 64 * 1024, 4);
        guestCopies(guestText);
        viewer.await("\"event\":\"guest-grab\"");
        Path got = dir.resolve("after-restart-pasted.txt");
        viewer.command("request " + got);
        viewer.await("\"event\":\"clipboard\"");
        assertThat(Files.readAllBytes(got)).isEqualTo(Files.readAllBytes(guestText));
        Path clientText = text("after-restart-client.txt", 64 * 1024, 5);
        viewer.command("grab " + clientText);
        awaitGuestPastes(Files.readAllBytes(clientText));
        assertThat(agent.logs()).doesNotContain("lost sync").doesNotContain("invalid").doesNotContain("too large");
        assertThat(device.protocolErrors()).isZero();
    }

    @Test
    void severalViewersShareTheClipboardAndTheOldestSetsTheSize() throws Exception {
        AgentProbe first = probe("first");
        await().atMost(T).until(() -> server.agent().agentClients() == 1);
        AgentProbe second = probe("second");
        await().atMost(T).until(() -> server.agent().agentClients() == 2);

        // the guest copies: both viewers are offered it; the second pastes
        Path guestText = text("shared-guest.txt", 32 * 1024, 6);
        guestCopies(guestText);
        first.await("\"event\":\"guest-grab\"");
        second.await("\"event\":\"guest-grab\"");
        Path got = dir.resolve("shared-pasted.txt");
        second.command("request " + got);
        second.await("\"event\":\"clipboard\"");
        assertThat(Files.readAllBytes(got)).isEqualTo(Files.readAllBytes(guestText));

        // the first copies: the guest pastes the first's text; the second's offer of the guest's data is withdrawn
        Path firstText = text("shared-first.txt", 32 * 1024, 7);
        first.command("grab " + firstText);
        second.await("\"event\":\"guest-release\"");
        awaitGuestPastes(Files.readAllBytes(firstText));

        // the guest follows the first viewer's size, then the second's once the first left
        second.command("monitor 1024 768");
        first.command("monitor 1280 800");
        await().atMost(T).pollInterval(Duration.ofMillis(200)).until(() -> screenSize().equals("1280x800"));
        first.close();
        probes.remove(first);
        await().atMost(T).pollInterval(Duration.ofMillis(200)).until(() -> screenSize().equals("1024x768"));
    }

    @Test
    void clientsFloodingAgentDataWithoutTokensAreCutOffAndMemoryStaysFlat() throws Exception {
        AgentProbe viewer = probe("viewer");
        for (int i = 0; i < WARM_UP_FLOODERS; i++) {
            flood(false); // the first connections fill the allocator's pools on every event loop
        }
        long violationsBefore = server.agent().clientViolations();
        Resources before = Resources.now();
        before.log("agent-flood", "before");
        int flooders = 20;
        for (int i = 0; i < flooders; i++) {
            assertThat(flood(false)).as("AGENT_DATA accepted before the cut").isLessThan(2000);
        }
        // an agent that stops reading: even a client that started the agent gets no more tokens and is cut off
        Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(agent.daemonPid())).start();
        assertThat(stop.waitFor()).isZero();
        try {
            assertThat(flood(true)).isLessThan(FLOOD_MESSAGE_BYTES / VdAgent.MAX_DATA_SIZE);
        } finally {
            new ProcessBuilder("kill", "-CONT", Long.toString(agent.daemonPid())).start().waitFor();
        }
        await().atMost(T).until(() -> server.agent().clientViolations() == violationsBefore + flooders + 1);
        Resources after = Resources.now();
        after.log("agent-flood", "after");
        assertThat(after.heapAfterGc()).isLessThan(before.heapAfterGc() + MEMORY_TOLERANCE);
        assertThat(after.directMemory()).isLessThan(before.directMemory() + MEMORY_TOLERANCE);

        // the honest viewer still has its agent
        Path text = text("after-flood.txt", 16 * 1024, 8);
        guestCopies(text);
        viewer.await("\"event\":\"guest-grab\"");
        Path got = dir.resolve("after-flood-pasted.txt");
        viewer.command("request " + got);
        viewer.await("\"event\":\"clipboard\"");
        assertThat(Files.readAllBytes(got)).isEqualTo(Files.readAllBytes(text));
    }

    /**
     * A client that announces a {@link #FLOOD_MESSAGE_BYTES} message and sends its pieces as fast as the socket
     * takes them, never waiting for AGENT_TOKEN. Returns how many AGENT_DATA it got onto the socket before the
     * server closed the connection (which must happen).
     */
    private int flood(boolean startAgent) {
        SpiceTestClient c = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options().password("")
                .channelCaps(SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS));
        try {
            c.next(SpiceMessages.MSG_MAIN_INIT);
            if (startAgent) {
                c.send(SpiceMessages.MSGC_MAIN_AGENT_START, AgentMessage.u32(-1));
            }
            byte[] first = java.util.Arrays.copyOf(AgentMessage.of(100, new byte[0]), VdAgent.MAX_DATA_SIZE);
            java.nio.ByteBuffer.wrap(first).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putInt(VdAgent.HEADER_SIZE_OFFSET, FLOOD_MESSAGE_BYTES);
            byte[] piece = new byte[VdAgent.MAX_DATA_SIZE];
            int sent = 0;
            int total = FLOOD_MESSAGE_BYTES / VdAgent.MAX_DATA_SIZE;
            try {
                c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, first);
                for (sent = 1; sent < total && c.isOpen(); sent++) {
                    c.send(SpiceMessages.MSGC_MAIN_AGENT_DATA, piece);
                }
            } catch (Exception e) { // the write fails once the server closed the connection (an IOException)
                LOG.debug("flooder's write failed after {} pieces: {}", sent, e.toString());
            }
            assertThat(c.awaitClosed(T)).as("the server cut the flooder off").isTrue();
            LOG.info("flooder ({}) got {} AGENT_DATA onto the socket before it was closed",
                    startAgent ? "started" : "never started", sent);
            return sent;
        } finally {
            c.close();
        }
    }
}
