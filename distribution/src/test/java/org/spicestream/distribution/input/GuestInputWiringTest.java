package org.spicestream.distribution.input;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Guice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.distribution.GuestTransports;
import org.spicestream.distribution.SpiceStreamd;
import org.spicestream.distribution.SpiceStreamdCommand;
import org.spicestream.distribution.guice.SpiceStreamdModule;
import org.spicestream.distribution.metrics.StreamdMetrics;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.StreamMessage;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.InputSink;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.transport.socket.SocketEventLoops;
import org.spicestream.transport.virtio.QmpInputSink;
import org.spicestream.transport.virtio.VirtioTransportProvider;

/**
 * The distribution's input wiring, end to end over real sockets: spice-streamd built by Guice with a {@code
 * virtio:…?qmp=} device, QEMU's QMP socket and chardev played by the test, a protocol-level SPICE client on the
 * inputs channel. Keys reach QMP {@code input-send-event}; absolute positions are scaled from the stream's FORMAT.
 */
class GuestInputWiringTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final Duration POSITION_RETRY = Duration.ofMillis(300);
    private static final String PORT = "stream0";
    private static final String LABEL = "st0";
    private static final int SCANCODE_A = 0x1E;
    private static final int STREAM_WIDTH = 800;
    private static final int STREAM_HEIGHT = 600;

    @TempDir
    Path dir;

    private ServerSocketChannel chardevServer;
    private FakeQmpServer qmp;
    private SpiceStreamd app;
    private com.google.inject.Injector injector;

    @BeforeEach
    void setUp() throws IOException {
        Path chardev = dir.resolve("st0.sock");
        chardevServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        chardevServer.bind(UnixDomainSocketAddress.of(chardev));
        qmp = new FakeQmpServer(dir.resolve("qmp.sock"));
        // the initial state QEMU reports for an open port: qom-get → chardev label → query-chardev frontend-open
        qmp.answer("qom-get /machine/peripheral/" + PORT, "\"" + LABEL + "\"");
        qmp.answer("query-chardev", "[{\"frontend-open\": true, \"filename\": \"unix:" + chardev
                + ",server=on\", \"label\": \"" + LABEL + "\"}]");
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            if (app != null) {
                app.close();
            }
        } finally {
            chardevServer.close();
            qmp.close();
        }
    }

    private SpiceStreamd start(String... args) {
        StringWriter out = new StringWriter();
        var outcome = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out), args);
        assertThat(outcome.run()).as("parsed: %s", out).isTrue();
        injector = Guice.createInjector(new SpiceStreamdModule(outcome.settings()));
        app = injector.getInstance(SpiceStreamd.class);
        app.start();
        return app;
    }

    private String virtioUri() {
        return "virtio:" + dir.resolve("st0.sock") + "?qmp=" + qmp.path + "&port=" + PORT;
    }

    @Test
    void keyDownFromASpiceClientReachesQmpAndPositionsAreScaledFromTheStreamSize() throws Exception {
        CompletableFuture<SocketChannel> guestSide = CompletableFuture.supplyAsync(() -> {
            try {
                return chardevServer.accept();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        start("--listen", "127.0.0.1:0", "--disable-ticketing", "--device", virtioUri());
        assertThat(app.input().device()).contains("default/stream0");
        assertThat(app.input().guest()).isPresent();

        try (SocketChannel guest = guestSide.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                SpiceTestClient main = SpiceTestClient.connectMain(app.spiceAddress(), "")) {
            // the host speaks first once QMP says the guest opened the port: its capabilities
            ByteBuffer first = ByteBuffer.allocate(64);
            assertThat(guest.read(first)).isPositive();
            write(guest, Capabilities.of());
            write(guest, new Format(STREAM_WIDTH, STREAM_HEIGHT, VideoCodec.MJPEG));

            assertThat(main.linkResult()).isZero();
            try (SpiceTestClient inputs = main.linkChannel(SpiceChannelType.INPUTS, 0)) {
                assertThat(inputs.linkResult()).isZero();
                inputs.send(SpiceMessages.MSGC_INPUTS_KEY_DOWN, le32(SCANCODE_A));
                assertThat(qmp.awaitCommand(QmpInputSink.COMMAND, TIMEOUT)).contains(
                        "\"events\":[{\"type\":\"key\",\"data\":{\"down\":true,\"key\":{\"type\":\"number\",\"data\":30}}}]");
                inputs.send(SpiceMessages.MSGC_INPUTS_KEY_UP, le32(SCANCODE_A | 0x80));
                assertThat(qmp.awaitCommand(QmpInputSink.COMMAND, TIMEOUT)).contains("\"down\":false");

                // the middle of the 800x600 stream is the middle of QEMU's absolute range once the FORMAT is seen
                int x = STREAM_WIDTH / 2;
                int y = STREAM_HEIGHT / 2;
                String expected = "[{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":"
                        + (x * QmpInputSink.ABS_MAX / (STREAM_WIDTH - 1)) + "}},{\"type\":\"abs\",\"data\":"
                        + "{\"axis\":\"y\",\"value\":" + (y * QmpInputSink.ABS_MAX / (STREAM_HEIGHT - 1)) + "}}]";
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                String line = null;
                while (System.nanoTime() < deadline && (line == null || !line.contains(expected))) {
                    inputs.send(SpiceMessages.MSGC_INPUTS_MOUSE_POSITION, position(x, y, 0));
                    line = qmp.pollCommand(QmpInputSink.COMMAND, POSITION_RETRY);
                }
                assertThat(line).as("absolute position scaled from %dx%d", STREAM_WIDTH, STREAM_HEIGHT)
                        .contains(expected);
            }
        }
        assertThat(app.input().guest().orElseThrow().failedEvents()).isZero();
        String scrape = injector.getInstance(StreamdMetrics.class).scrape();
        // Key down, key up and at least one position; the position retry loop may send many more under load.
        Matcher sent = Pattern.compile("(?m)^spicestream_input_events_sent_total\\{device=\"stream0\",vm=\"default\"\\} ([0-9.]+)$")
                .matcher(scrape);
        assertThat(sent.find()).as("sent counter in %s", scrape).isTrue();
        assertThat(Double.parseDouble(sent.group(1))).isGreaterThanOrEqualTo(3);
        assertThat(scrape).contains("spicestream_input_events_failed_total{device=\"stream0\",vm=\"default\"} 0.0");
    }

    @Test
    void withoutAQmpDeviceInputIsOnlyLogged() {
        start("--listen", "127.0.0.1:0", "--disable-ticketing", "--device",
                "virtio:" + dir.resolve("st0.sock"));
        assertThat(app.input().sink()).isSameAs(InputSink.logging());
        assertThat(app.input().device()).isEmpty();
        assertThat(app.input().guest()).isEmpty();
    }

    @Test
    void theFirstVirtioDeviceWithQmpGetsTheInput() {
        var group = SocketEventLoops.newGroup(1);
        try {
            VirtioTransportProvider virtio = new VirtioTransportProvider();
            List<GuestTransports.Entry> entries = List.of(
                    entry(virtio, group, "stream0", "virtio:" + dir.resolve("a.sock")),
                    entry(virtio, group, "stream1", "virtio:" + dir.resolve("b.sock") + "?qmp=" + dir.resolve("b.q")),
                    entry(virtio, group, "stream2", "virtio:" + dir.resolve("c.sock") + "?qmp=" + dir.resolve("c.q")));
            GuestInput input = GuestInput.select(entries);
            assertThat(input.device()).contains("stream1");
            assertThat(input.sink()).isInstanceOf(QmpInputSink.class).isSameAs(input.guest().orElseThrow());
            entries.forEach(e -> e.transport().close());
            assertThat(GuestInput.select(List.of()).sink()).isSameAs(InputSink.logging());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static GuestTransports.Entry entry(VirtioTransportProvider p, io.netty.channel.EventLoopGroup group,
            String name, String uri) {
        return new GuestTransports.Entry(name, URI.create(uri), p.create(URI.create(uri), TransportContext.of(group,
                name)));
    }

    private static void write(SocketChannel ch, StreamMessage m) throws IOException {
        ByteBuf b = StreamMessages.encode(m, ByteBufAllocator.DEFAULT);
        try {
            ByteBuffer bytes = ByteBuffer.wrap(ByteBufUtil.getBytes(b));
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
        } finally {
            b.release();
        }
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** MOUSE_POSITION: x u32, y u32, buttons u16, display u8. */
    private static byte[] position(int x, int y, int display) {
        return ByteBuffer.allocate(11).order(ByteOrder.LITTLE_ENDIAN).putInt(x).putInt(y).putShort((short) 0)
                .put((byte) display).array();
    }
}
