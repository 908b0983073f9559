package org.spicestream.transport.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.device.spi.GuestEndpoint;
import org.spicestream.device.spi.RecordingPortHandler;
import org.spicestream.device.spi.TransportContext;

/**
 * The virtio transport with QMP, against a QMP server played by the test over a real Unix socket: capabilities
 * handshake, VSERPORT_CHANGE → port open / close (and open-while-open → reset), initial state from query-chardev,
 * port discovery, the fallback without QMP answers, the message size bound, and the exact input-send-event JSON.
 */
class VirtioQmpTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String PORT = "stream0";
    private static final String LABEL = "st0";

    @TempDir
    Path dir;

    private MultiThreadIoEventLoopGroup group;
    private ServerSocketChannel chardevServer;
    private Path chardevPath;
    private FakeQmpServer qmp;
    private VirtioGuestTransport transport;
    private RecordingPortHandler port;
    private final List<GuestEndpoint> guests = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        chardevPath = dir.resolve("st0.sock");
        chardevServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        chardevServer.bind(UnixDomainSocketAddress.of(chardevPath));
        qmp = new FakeQmpServer(dir.resolve("qmp.sock"));
        qmp.answer("qom-get /machine/peripheral/" + PORT, "\"" + LABEL + "\"");
        chardevs(false);
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            if (transport != null) {
                transport.close();
            }
            for (GuestEndpoint g : guests) {
                g.close();
            }
            chardevServer.close();
            qmp.close();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (port != null) {
            assertThat(port.violations()).as("contract violations").isEmpty();
        }
    }

    private void chardevs(boolean frontendOpen) {
        qmp.answer("query-chardev", "[{\"frontend-open\": false, \"filename\": \"unix:" + qmp.path
                + ",server=on\", \"label\": \"compat_monitor1\"}, {\"frontend-open\": " + frontendOpen
                + ", \"filename\": \"unix:" + chardevPath + ",server=on\", \"label\": \"" + LABEL + "\"}]");
    }

    private void start(String query) {
        URI uri = URI.create("virtio:" + chardevPath + "?" + query);
        transport = new VirtioTransportProvider(Duration.ofMillis(10), Duration.ofMillis(160))
                .create(uri, TransportContext.of(group, "virtio-test"));
        port = new RecordingPortHandler(transport);
        transport.start(port);
    }

    private GuestEndpoint acceptChardev() throws IOException {
        GuestEndpoint g = GuestEndpoint.accept(chardevServer, TIMEOUT);
        guests.add(g);
        return g;
    }

    private void roundTrip() throws Exception {
        transport.executor().submit(() -> {}).get();
    }

    @Test
    void negotiatesCapabilitiesFirstAndThePortFollowsVserportChange() throws Exception {
        start("qmp=" + qmp.path + "&port=" + PORT);
        GuestEndpoint guest = acceptChardev();

        assertThat(qmp.nextLine(TIMEOUT)).isEqualTo("{\"execute\":\"qmp_capabilities\",\"id\":\"spicestream-capabilities\"}");
        qmp.awaitCommand("query-chardev", TIMEOUT);
        await().atMost(TIMEOUT).until(() -> transport.guestState() == VirtioGuestTransport.GuestState.CLOSED);
        roundTrip();
        assertThat(port.events()).as("chardev connected, guest end closed").isEmpty();
        assertThat(transport.isChardevConnected()).isTrue();

        // Bytes while the guest's end is closed are discarded (stale bytes from before a close).
        guest.write(new byte[] {9, 9}, TIMEOUT);
        await().atMost(TIMEOUT).until(() -> transport.discardedBytes() == 2);

        qmp.portChange("other-port", true);
        qmp.portChange(PORT, true);
        await().atMost(TIMEOUT).until(() -> port.openCount() == 1);
        assertThat(transport.portEvents()).isEqualTo(1);

        guest.write(new byte[] {1, 2, 3}, TIMEOUT);
        await().atMost(TIMEOUT).until(() -> port.received() == 3);

        qmp.portChange(PORT, false);
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        qmp.portChange(PORT, true);
        await().atMost(TIMEOUT).until(() -> port.openCount() == 2);

        // QEMU's rate limit merges a quick close + reopen into a lone open=true: a reset.
        qmp.portChange(PORT, true);
        await().atMost(TIMEOUT).until(() -> port.openCount() == 3);
        assertThat(port.events()).containsExactly("open", "close", "open", "close", "open");
        assertThat(transport.mergedReopens()).isEqualTo(1);
        assertThat(transport.isPortOpen()).isTrue();
    }

    @Test
    void initialStateComesFromQueryChardevAndThePortIdIsDiscovered() throws Exception {
        chardevs(true);
        qmp.answer("qom-list", "[{\"name\": \"type\", \"type\": \"string\"}, {\"name\": \"serial0\", \"type\":"
                + " \"child<virtio-serial-pci>\"}, {\"name\": \"other\", \"type\": \"child<virtserialport>\"},"
                + " {\"name\": \"" + PORT + "\", \"type\": \"child<virtserialport>\"}]");
        qmp.answer("qom-get /machine/peripheral/other", "\"elsewhere\"");
        start("qmp=" + qmp.path);
        acceptChardev();

        await().atMost(TIMEOUT).until(() -> port.openCount() == 1);
        assertThat(transport.portId()).isEqualTo(PORT);

        qmp.portChange("other", false);
        qmp.portChange(PORT, false);
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        assertThat(port.events()).containsExactly("open", "close");
    }

    @Test
    void whenQemuCannotTellThePortStateConnectedCountsAsOpen() throws Exception {
        qmp.answer("qom-get /machine/peripheral/" + PORT, "error:Device 'stream0' not found");
        start("qmp=" + qmp.path + "&port=" + PORT);
        acceptChardev();

        await().atMost(TIMEOUT).until(() -> port.openCount() == 1);
        assertThat(transport.guestState()).isEqualTo(VirtioGuestTransport.GuestState.ASSUMED_OPEN);
        // An open=true then confirms the assumption rather than resetting.
        qmp.portChange(PORT, true);
        await().atMost(TIMEOUT).until(() -> transport.portEvents() == 1);
        roundTrip();
        assertThat(port.events()).containsExactly("open");
        qmp.portChange(PORT, false);
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
    }

    @Test
    void withoutAnyQmpAnswerThePortOpensAfterTheGracePeriod() throws Exception {
        qmp.close();
        start("qmp=" + dir.resolve("nobody.sock") + "&port=" + PORT);
        acceptChardev();
        long t0 = System.nanoTime();
        roundTrip();
        assertThat(port.openCount()).isZero();

        await().atMost(TIMEOUT).until(() -> port.openCount() == 1);
        assertThat(Duration.ofNanos(System.nanoTime() - t0))
                .isGreaterThanOrEqualTo(VirtioGuestTransport.QMP_STATE_GRACE.minusMillis(100));
    }

    @Test
    void chardevLossClosesThePortAndReconnectsWithTheGuestStateKept() throws Exception {
        chardevs(true);
        start("qmp=" + qmp.path + "&port=" + PORT);
        GuestEndpoint first = acceptChardev();
        await().atMost(TIMEOUT).until(() -> port.openCount() == 1);

        first.close();
        await().atMost(TIMEOUT).until(() -> port.closeCount() == 1);
        acceptChardev();
        await().atMost(TIMEOUT).until(() -> port.openCount() == 2);
    }

    @Test
    void oversizedQmpMessageDropsTheConnectionWhichComesBack() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        start("qmp=" + qmp.path + "&port=" + PORT);
        acceptChardev();
        qmp.awaitCommand("query-chardev", TIMEOUT);
        QmpConnection connection = transport.qmp().orElseThrow();
        await().atMost(TIMEOUT).until(connection::isReady);

        byte[] huge = new byte[QmpConnection.MAX_MESSAGE_BYTES + 2];
        java.util.Arrays.fill(huge, (byte) 'x');
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            qmp.writeRaw(huge);
            await().atMost(TIMEOUT).until(() -> connection.oversizedMessages() == 1);
        } finally {
            System.setErr(original);
        }
        await().atMost(TIMEOUT).until(() -> qmp.disconnections() >= 1);
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("virtio-test: QMP message from").contains("is longer than " + QmpConnection.MAX_MESSAGE_BYTES);

        // It reconnects, negotiates again and asks for the state again.
        await().atMost(TIMEOUT).until(() -> qmp.connections() == 2 && connection.isReady());
        qmp.awaitCommand("query-chardev", TIMEOUT);
    }

    @Test
    void malformedQmpMessageDropsTheConnection() throws Exception {
        start("qmp=" + qmp.path + "&port=" + PORT);
        QmpConnection connection = transport.qmp().orElseThrow();
        await().atMost(TIMEOUT).until(connection::isReady);

        qmp.write("{\"event\": \"VSERPORT_CHANGE\", \"data\": {");
        await().atMost(TIMEOUT).until(() -> connection.malformedMessages() == 1);
        await().atMost(TIMEOUT).until(() -> qmp.connections() == 2 && connection.isReady());
    }

    @Test
    void inputSinkSendsExactInputSendEventJson() throws Exception {
        start("qmp=" + qmp.path + "&port=" + PORT);
        QmpConnection connection = transport.qmp().orElseThrow();
        await().atMost(TIMEOUT).until(connection::isReady);
        qmp.awaitCommand("query-chardev", TIMEOUT);
        QmpInputSink sink = transport.inputSink().orElseThrow();
        assertThat(transport.inputSink().orElseThrow()).isSameAs(sink);
        sink.setDisplaySize(0, 1024, 768);

        sink.keyPressed(0x1E);
        assertInput("[{\"type\":\"key\",\"data\":{\"down\":true,\"key\":{\"type\":\"number\",\"data\":30}}}]");
        sink.keyReleased(0xE01D);
        assertInput("[{\"type\":\"key\",\"data\":{\"down\":false,\"key\":{\"type\":\"number\",\"data\":157}}}]");
        sink.qcode("ret", true);
        assertInput("[{\"type\":\"key\",\"data\":{\"down\":true,\"key\":{\"type\":\"qcode\",\"data\":\"ret\"}}}]");
        sink.mouseMotion(5, -3, 0);
        assertInput("[{\"type\":\"rel\",\"data\":{\"axis\":\"x\",\"value\":5}},"
                + "{\"type\":\"rel\",\"data\":{\"axis\":\"y\",\"value\":-3}}]");
        sink.mousePosition(1023, 384, 0, 0);
        assertInput("[{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":32767}},"
                + "{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":16404}}]");
        sink.mousePress(1, 1);
        assertInput("[{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"left\"}}]");
        sink.mousePress(5, 0x11);
        assertInput("[{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"wheel-down\"}}]");
        sink.mouseRelease(5, 1);
        assertInput("[{\"type\":\"btn\",\"data\":{\"down\":false,\"button\":\"wheel-down\"}}]");
        sink.releaseAll();
        assertInput("[{\"type\":\"btn\",\"data\":{\"down\":false,\"button\":\"left\"}}]");
        await().atMost(TIMEOUT).until(() -> sink.sentEvents() == 9);

        sink.keyPressed(0xE11D45); // Pause: no QEMU key number
        assertThat(sink.failedEvents()).isEqualTo(1);
    }

    private void assertInput(String events) throws InterruptedException {
        String line = qmp.awaitCommand("input-send-event", TIMEOUT);
        assertThat(line).matches("\\{\"execute\":\"input-send-event\",\"arguments\":\\{\"events\":"
                + java.util.regex.Pattern.quote(events) + "\\},\"id\":\"spicestream-\\d+\"\\}");
    }

    @Test
    void inputWithoutQmpIsDroppedAndCounted() {
        qmp.answer("qmp_capabilities", "error:no");
        start("qmp=" + qmp.path + "&port=" + PORT);
        QmpInputSink sink = transport.inputSink().orElseThrow();
        sink.keyPressed(0x1E);
        await().atMost(TIMEOUT).until(() -> sink.failedEvents() == 1);
        assertThat(sink.sentEvents()).isZero();
    }
}
