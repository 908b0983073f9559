package org.spicestream.distribution.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.inject.Guice;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.distribution.SpiceStreamd;
import org.spicestream.distribution.SpiceStreamdCommand;
import org.spicestream.distribution.control.ControlJson;
import org.spicestream.distribution.control.CtlCommand;
import org.spicestream.distribution.demo.DemoGuest;
import org.spicestream.distribution.guice.SpiceStreamdModule;
import org.spicestream.distribution.metrics.StreamdMetrics;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceLinkError;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.testclient.SpiceTestClient;

/**
 * spice-streamd as a host server, over real sockets: VMs added, listed, rotated and removed through the control API
 * ({@code spice-streamd ctl} as its client), reached through the shared port by CONNECT and WebSocket path or on
 * their own port, with demo guests streaming into them; bad requests change nothing.
 */
class HostApiTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** SPICE_MSG_DISPLAY_STREAM_CREATE. */
    private static final int MSG_STREAM_CREATE = 122;

    @TempDir
    Path dir;

    private SpiceStreamd app;
    private com.google.inject.Injector injector;
    private final List<DemoGuest> guests = new ArrayList<>();
    private Path token;
    private String control;

    @BeforeEach
    void start() throws IOException {
        token = dir.resolve("token");
        Files.writeString(token, "0123456789abcdef-token\n");
        control = "unix:" + dir.resolve("control.sock");
        StringWriter out = new StringWriter();
        var outcome = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out), "--listen", "127.0.0.1:0",
                "--control", control, "--control-token-file", token.toString());
        assertThat(outcome.run()).as("parsed: %s", out).isTrue();
        assertThat(outcome.settings().demo()).as("a managed host starts without the demo").isFalse();
        injector = Guice.createInjector(new SpiceStreamdModule(outcome.settings()));
        app = injector.getInstance(SpiceStreamd.class);
        app.start();
    }

    @AfterEach
    void stop() {
        guests.forEach(DemoGuest::close);
        if (app != null) {
            app.close();
        }
    }

    /** Runs {@code spice-streamd ctl ARGS}; returns exit code, stdout and stderr. */
    private record Ctl(int exit, String out, String err) {}

    private Ctl ctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--control", control, "--control-token-file", token.toString()));
        all.addAll(List.of(args));
        int exit = CtlCommand.run(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        return new Ctl(exit, out.toString(), err.toString());
    }

    private String guestSocket(String vm) {
        return "unix:" + dir.resolve(vm + ".sock") + "?listen";
    }

    private void guest(String vm) {
        DemoGuest g = new DemoGuest(UnixDomainSocketAddress.of(dir.resolve(vm + ".sock")), DemoGuest.Options.DEFAULT);
        g.start();
        guests.add(g);
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> list() {
        Ctl c = ctl("list");
        assertThat(c.exit()).as(c.err()).isZero();
        return (List<Map<String, Object>>) (List<?>) ControlJsonTestAccess.array(c.out());
    }

    @Test
    void vmsAddedThroughTheApiAreReachedThroughTheSharedPortOrTheirOwn() throws Exception {
        Path pw = dir.resolve("vm1.pw");
        Files.writeString(pw, "vm1-secret\n");
        Ctl add1 = ctl("add", "vm1", "--device", guestSocket("vm1"), "--password-file", pw.toString());
        assertThat(add1.exit()).as(add1.err()).isZero();
        assertThat(add1.out()).contains("\"name\":\"vm1\"");
        Ctl add2 = ctl("add", "vm2", "--device", guestSocket("vm2"), "--listen", "127.0.0.1:0", "--disable-ticketing",
                "--session-policy", "share");
        assertThat(add2.exit()).as(add2.err()).isZero();
        guest("vm1");
        guest("vm2");

        List<Map<String, Object>> vms = list();
        assertThat(vms).extracting(m -> m.get("name")).containsExactly("vm1", "vm2");
        assertThat(vms.get(0).get("listen")).isNull();
        assertThat(vms.get(0).get("auth")).isEqualTo("password");
        String vm2Listen = (String) vms.get(1).get("listen");
        assertThat(vm2Listen).startsWith("127.0.0.1:");
        assertThat(vms.get(1).get("sessionPolicy")).isEqualTo("share");
        InetSocketAddress own = new InetSocketAddress("127.0.0.1",
                Integer.parseInt(vm2Listen.substring(vm2Listen.indexOf(':') + 1)));

        // vm1 through the shared port by CONNECT (as spice-gtk through --spice-proxy), with its password
        SpiceTestClient.Options viaConnect = SpiceTestClient.options().httpConnect("vm1:5900").password("vm1-secret");
        try (SpiceTestClient main = SpiceTestClient.connect(app.spiceAddress(), viaConnect);
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0, 1, 4, 9);
                // vm2 on its own port, and through the shared port by WebSocket path
                SpiceTestClient main2 = SpiceTestClient.connectMain(own, "");
                SpiceTestClient ws2 = SpiceTestClient.connect(app.spiceAddress(),
                        SpiceTestClient.options().webSocket("/vms/vm2"))) {
            assertThat(main.linkResult()).isZero();
            assertThat(display.linkResult()).isZero();
            assertThat(display.next(MSG_STREAM_CREATE)).isNotNull();
            assertThat(main2.linkResult()).isZero();
            assertThat(ws2.linkResult()).isZero();
            assertThat(app.vms().get("vm1").orElseThrow().server().sessions()).hasSize(1);
            assertThat(app.vms().get("vm2").orElseThrow().server().sessions()).hasSize(2);

            await().atMost(TIMEOUT).untilAsserted(() -> {
                Map<String, Object> vm1 = ControlJsonTestAccess.object(ctl("get", "vm1").out());
                assertThat(vm1.get("clients")).isEqualTo(1);
                assertThat(vm1.get("stream")).isEqualTo(Map.of("codec", "mjpeg", "width", 640, "height", 480));
            });
            String scrape = injector.getInstance(StreamdMetrics.class).scrape();
            assertThat(scrape).containsPattern("spicestream_sessions\\{vm=\"vm1\"\\} 1.0")
                    .containsPattern("spicestream_device_frames_in_total\\{device=\"stream0\",uri=\"[^\"]*vm1.sock"
                            + "\\?listen\",vm=\"vm1\"\\} [1-9]")
                    .contains("spicestream_vms 2.0");

            // a rotated password: viewers stay, the old password no longer links
            Path pw2 = dir.resolve("vm1.pw2");
            Files.writeString(pw2, "vm1-rotated\n");
            Ctl rotate = ctl("password", "vm1", "--password-file", pw2.toString());
            assertThat(rotate.exit()).as(rotate.err()).isZero();
            try (SpiceTestClient old = SpiceTestClient.connect(app.spiceAddress(), viaConnect)) {
                assertThat(old.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
            }
            try (SpiceTestClient fresh = SpiceTestClient.connect(app.spiceAddress(),
                    SpiceTestClient.options().httpConnect("vm1:5900").password("vm1-rotated")
                            .channel(SpiceChannelType.INPUTS, 0).connectionId(
                                    Integer.toUnsignedLong(main.awaitSessionId())))) {
                assertThat(fresh.linkResult()).isZero();
            }
            assertThat(main.isOpen()).isTrue();

            // removing vm1 tells its viewers DISCONNECTING and leaves vm2 alone
            Ctl remove = ctl("remove", "vm1");
            assertThat(remove.exit()).as(remove.err()).isZero();
            assertThat(main.next(SpiceMessages.MSG_DISCONNECTING)).isNotNull();
            assertThat(main.awaitClosed(TIMEOUT)).isTrue();
            assertThat(main2.isOpen()).isTrue();
            assertThat(ws2.isOpen()).isTrue();
            assertThat(list()).extracting(m -> m.get("name")).containsExactly("vm2");
            assertThat(injector.getInstance(StreamdMetrics.class).scrape()).doesNotContain("vm=\"vm1\"");
            assertThatConnectFails("vm1:5900");
        }
        assertThat(Files.getPosixFilePermissions(dir.resolve("control.sock")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    private void assertThatConnectFails(String authority) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SpiceTestClient.connect(app.spiceAddress(),
                SpiceTestClient.options().httpConnect(authority))).hasMessageContaining("404");
    }

    @Test
    void badRequestsAreRefusedWithAJsonMessageAndChangeNothing() throws Exception {
        assertThat(ctl("add", "keep", "--device", guestSocket("keep"), "--disable-ticketing").exit()).isZero();
        List<Map<String, Object>> before = list();

        Map<String, Object> body = new LinkedHashMap<>();
        body.put("devices", List.of(guestSocket("x")));
        body.put("disableTicketing", true);
        body.put("colour", "blue");
        assertRefused(put("x", ControlJson.write(body)), "unknown key");
        body.remove("colour");
        body.put("devices", List.of("bogus:/x"));
        assertRefused(put("x", ControlJson.write(body)), "unknown transport scheme");
        body.put("devices", List.of(guestSocket("x")));
        assertRefused(put("Bad_Name", ControlJson.write(body)), "bad VM name");
        assertRefused(put("x", "{\"devices\": ["), "not a JSON object");
        assertRefused(put("x", "{\"devices\": [\"" + "a".repeat(70_000) + "\"]}"), "body larger");
        body.remove("disableTicketing");
        assertRefused(put("x", ControlJson.write(body)), "exactly one of password");
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            body.put("disableTicketing", true);
            body.put("listen", "127.0.0.1:" + taken.getLocalPort());
            assertRefused(put("x", ControlJson.write(body)), "cannot listen");
            // replacing an existing VM with a port in use keeps the old VM running
            assertRefused(put("keep", ControlJson.write(body)), "cannot listen");
        }
        assertThat(list()).isEqualTo(before);
        assertThat(app.vms().get("keep").orElseThrow().isClosed()).isFalse();
        // the kept VM still has its meters, and so has a VM that replaced it
        assertThat(injector.getInstance(StreamdMetrics.class).scrape()).contains("spicestream_sessions{vm=\"keep\"}");
        assertThat(ctl("add", "keep", "--device", guestSocket("keep2"), "--disable-ticketing").exit()).isZero();
        assertThat(injector.getInstance(StreamdMetrics.class).scrape()).contains("spicestream_sessions{vm=\"keep\"}")
                .contains("keep2.sock");

        // no token, wrong method, unknown VM
        CtlCommand noToken = new CtlCommand();
        assertThat(raw("GET", "/v1/vms", null, null).status()).isEqualTo(401);
        assertThat(raw("PATCH", "/v1/vms/keep", null, token).status()).isEqualTo(405);
        assertThat(raw("GET", "/v1/vms/none", null, token).status()).isEqualTo(404);
        assertThat(raw("DELETE", "/v1/vms/none", null, token).status()).isEqualTo(404);
        Ctl gone = ctl("remove", "none");
        assertThat(gone.exit()).isEqualTo(1);
        assertThat(gone.err()).contains("404").contains("no VM none");
        assertThat(noToken).isNotNull();
    }

    @Test
    void threadsDoNotGrowWithVms() throws Exception {
        assertThat(ctl("add", "warm", "--device", guestSocket("warm"), "--disable-ticketing").exit()).isZero();
        int before = Thread.activeCount();
        for (int i = 0; i < 20; i++) {
            Ctl c = ctl("add", "t" + i, "--device", guestSocket("t" + i), "--disable-ticketing");
            assertThat(c.exit()).as(c.err()).isZero();
        }
        assertThat(app.vms().size()).isEqualTo(21);
        assertThat(Thread.activeCount()).as("threads after 20 more VMs").isLessThanOrEqualTo(before + 2);
        for (int i = 0; i < 20; i++) {
            assertThat(ctl("remove", "t" + i).exit()).isZero();
        }
        assertThat(app.vms().size()).isEqualTo(1);
    }

    private record Raw(int status, String body) {}

    private Ctl put(String name, String json) throws IOException {
        Raw r = raw("PUT", "/v1/vms/" + name, json, token);
        return new Ctl(r.status(), r.body(), r.body());
    }

    private static void assertRefused(Ctl c, String message) {
        assertThat(c.exit()).as(c.out()).isEqualTo(400);
        assertThat(ControlJsonTestAccess.object(c.out()).get("error").toString()).contains(message);
    }

    /** One raw HTTP request on the control socket. */
    private Raw raw(String method, String path, String json, Path tokenFile) throws IOException {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(dir.resolve("control.sock")));
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
                    + body.length + "\r\n" + (tokenFile == null ? ""
                            : "Authorization: Bearer " + Files.readString(tokenFile).strip() + "\r\n") + "\r\n";
            ch.write(java.nio.ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
            ch.write(java.nio.ByteBuffer.wrap(body));
            String answer = new String(java.nio.channels.Channels.newInputStream(ch).readAllBytes(),
                    StandardCharsets.UTF_8);
            return new Raw(Integer.parseInt(answer.substring(9, 12)), answer.substring(answer.indexOf("\r\n\r\n") + 4));
        }
    }
}
