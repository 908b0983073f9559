package org.spicestream.it.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.it.browser.ClientPage;
import org.spicestream.it.browser.HeadlessChromium;
import org.spicestream.it.clients.SpiceGtkProbe;
import org.spicestream.it.stream.TestGuestAgent;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;

/**
 * One spice-streamd process (the shaded jar) serving two VMs added with {@code spice-streamd ctl}: stock spice-gtk
 * reaches VM "vm-a" on its own port and VM "vm-b" through the shared port by HTTP CONNECT, with spice-gtk's own
 * proxy support ({@code proxy=http://HOST:PORT}, remote-viewer's {@code --spice-proxy}) and the VM's name as host,
 * and each sees its own VM's stream (different sizes), with its own password.
 */
class MultiVmSpiceGtkIT {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final int FRAMES = 20;
    private static final double GTK_TIMEOUT_SECONDS = 60;
    private static final Pattern READY = Pattern.compile("spice-streamd ready: connect with remote-viewer spice://"
            + "127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private Process server;
    private Path serverLog;
    private final List<TestGuestAgent> guests = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (TestGuestAgent g : guests) {
            g.close();
        }
        if (server != null) {
            server.destroy();
            boolean exited = server.waitFor(10, TimeUnit.SECONDS);
            server.destroyForcibly();
            System.out.println("---- spice-streamd output ----\n" + Files.readString(serverLog));
            assertThat(exited).as("exit on SIGTERM").isTrue();
            assertThat(server.exitValue()).isZero();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Path jar() {
        Path jar = Path.of(System.getProperty(DemoRemoteViewerIT.JAR_PROPERTY, DemoRemoteViewerIT.DEFAULT_JAR.toString()))
                .toAbsolutePath().normalize();
        assertThat(jar).as("the shaded jar (mvn package in distribution builds it)").exists();
        return jar;
    }

    /** {@code spice-streamd ctl ARGS} as a process; returns its standard output. */
    private String ctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar().toString(), "ctl", "--control",
                "unix:" + dir.resolve("c.sock")));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("ctl %s:\n%s", List.of(args), out).isZero();
        return out;
    }

    /** Starts the jar on a free shared port with a control socket; returns the shared port. */
    private int startServer() throws Exception {
        serverLog = dir.resolve("spice-streamd.log");
        server = new ProcessBuilder(java(), "-jar", jar().toString(), "--listen", "127.0.0.1:0", "--control",
                "unix:" + dir.resolve("c.sock")).redirectErrorStream(true).redirectOutput(serverLog.toFile()).start();
        int[] shared = new int[1];
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(server.isAlive()).as("spice-streamd exited early:\n%s", Files.readString(serverLog)).isTrue();
            Matcher m = READY.matcher(Files.readString(serverLog));
            if (m.find()) {
                shared[0] = Integer.parseInt(m.group(1));
                return true;
            }
            return false;
        });
        return shared[0];
    }

    @Test
    void spiceGtkReachesOneVmOnItsOwnPortAndAnotherThroughTheSharedPortByConnect() throws Exception {
        SpiceGtkProbe.requireSpiceGtk();
        int[] shared = {startServer()};

        Path pwA = dir.resolve("a.pw");
        Files.writeString(pwA, "pass-a\n");
        Path pwB = dir.resolve("b.pw");
        Files.writeString(pwB, "pass-b\n");
        int ownPort = freePort();
        ctl("add", "vm-a", "--device", "unix:" + dir.resolve("a.sock") + "?listen", "--listen", "127.0.0.1:" + ownPort,
                "--password-file", pwA.toString());
        ctl("add", "vm-b", "--device", "unix:" + dir.resolve("b.sock") + "?listen", "--password-file", pwB.toString());
        assertThat(ctl("list")).contains("\"name\":\"vm-a\"").contains("\"listen\":\"127.0.0.1:" + ownPort + "\"")
                .contains("\"name\":\"vm-b\"");

        EncodedStream a = TestMedia.get(MediaSpec.of(VideoCodec.MJPEG, 320, 240, 60));
        EncodedStream b = TestMedia.get(MediaSpec.of(VideoCodec.MJPEG, 480, 272, 60));
        guests.add(new TestGuestAgent(dir.resolve("a.sock"), Map.of(VideoCodec.MJPEG, a), 30).open());
        guests.add(new TestGuestAgent(dir.resolve("b.sock"), Map.of(VideoCodec.MJPEG, b), 30).open());

        SpiceGtkProbe.Result onOwnPort = SpiceGtkProbe.run(new InetSocketAddress("127.0.0.1", ownPort), "pass-a",
                FRAMES, dir.resolve("vm-a.png"), GTK_TIMEOUT_SECONDS);
        assertThat(onOwnPort.string("error")).as(onOwnPort.output()).isEmpty();
        assertThat(onOwnPort.number("primary_width")).isEqualTo(320);
        assertThat(onOwnPort.number("primary_height")).isEqualTo(240);
        assertThat(onOwnPort.number("invalidates")).isGreaterThanOrEqualTo(FRAMES);

        // the URI's host is the VM's name: spice-gtk sends "CONNECT vm-b:5900 HTTP/1.0" to the proxy
        String proxy = "http://127.0.0.1:" + shared[0];
        SpiceGtkProbe.Result viaConnect = SpiceGtkProbe.runViaProxy("spice://vm-b:5900", proxy, "pass-b", FRAMES,
                dir.resolve("vm-b.png"), GTK_TIMEOUT_SECONDS);
        assertThat(viaConnect.string("error")).as(viaConnect.output()).isEmpty();
        assertThat(viaConnect.number("primary_width")).isEqualTo(480);
        assertThat(viaConnect.number("primary_height")).isEqualTo(272);
        assertThat(viaConnect.number("invalidates")).isGreaterThanOrEqualTo(FRAMES);

        // vm-a's password does not open vm-b
        SpiceGtkProbe.Result wrong = SpiceGtkProbe.runViaProxy("spice://vm-b:5900", proxy, "pass-a", 1, null, 30);
        assertThat(wrong.number("invalidates")).isZero();
        assertThat(wrong.string("error")).isNotEmpty();
        assertThat(Files.readString(serverLog)).contains("CONNECT from").contains("vm-b: link from");
    }

    @Test
    void theBrowserClientAtVmsNameShowsThatVm() throws Exception {
        HeadlessChromium.requireChromium();
        int shared = startServer();
        Path pw = dir.resolve("b.pw");
        Files.writeString(pw, "pass-b\n");
        ctl("add", "vm-b", "--device", "unix:" + dir.resolve("b.sock") + "?listen", "--password-file", pw.toString());
        guests.add(new TestGuestAgent(dir.resolve("b.sock"),
                Map.of(VideoCodec.MJPEG, TestMedia.get(MediaSpec.of(VideoCodec.MJPEG, 480, 272, 60))), 30).open());
        try (HeadlessChromium chromium = HeadlessChromium.launch()) {
            // the page below /vms/vm-b/ opens the WebSocket /vms/vm-b: that VM, with its own password
            ClientPage page = new ClientPage(chromium).open("http://127.0.0.1:" + shared + "/vms/vm-b/?password=pass-b");
            page.awaitState("connected");
            page.awaitTrue("spicestream.displays().length === 1 && spicestream.displays()[0].framesDrawn > 10");
            assertThat(page.canvasSize(0)).isEqualTo("480x272");
            // without the trailing slash the server redirects to the page (its URLs are relative)
            page.open("http://127.0.0.1:" + shared + "/vms/vm-b?password=pass-b");
            page.awaitState("connected");
            assertThat(chromium.evaluateString("location.pathname + location.search")).isEqualTo("/vms/vm-b/");
            page.awaitTrue("spicestream.displays().length === 1 && spicestream.displays()[0].framesDrawn > 10");
            page.close();
            assertThat(chromium.consoleProblems()).as("errors on the page's console").isEmpty();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
