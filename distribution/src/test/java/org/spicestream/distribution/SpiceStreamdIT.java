package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.SpiceMessages;
import org.spicestream.reds.testclient.SpiceTestClient;

/** Runs the shaded jar as a real process, as a user would, and talks SPICE to it over real sockets. */
class SpiceStreamdIT {

    private static final Path JAR = Path.of(System.getProperty("spicestreamd.jar", "target/spice-streamd.jar"));
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(5);

    // display message and capability numbers (spice-protocol enums)
    private static final int MSG_STREAM_CREATE = 122;
    private static final int MSG_STREAM_DATA = 123;
    private static final int CAP_STREAM_REPORT = 4;
    private static final int CAP_MULTI_CODEC = 8;
    private static final int CAP_CODEC_MJPEG = 9;
    private static final int CODEC_MJPEG = 1;
    /** STREAM_DATA: id u32, multi_media_time u32, data_size u32, then the frame. */
    private static final int STREAM_DATA_HEAD = 12;

    private static final Pattern FRAMES_IN =
            Pattern.compile("(?m)^spicestream_device_frames_in_total\\{[^}]*device=\"demo\"[^}]*\\} (\\S+)$");
    private static final Pattern CLIENT_FRAMES_SENT =
            Pattern.compile("(?m)^spicestream_client_frames_sent\\{[^}]*device=\"demo\"[^}]*\\} (\\S+)$");

    @TempDir
    Path dir;

    private Process process;
    private Path log;

    @AfterEach
    void stop() throws IOException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
        if (log != null && Files.exists(log)) {
            // keeps the server's log with the test report (redirectTestOutputToFile)
            System.out.println("---- spice-streamd output ----\n" + Files.readString(log));
        }
    }

    @Test
    void demoServesMjpegToASpiceClientCountsFramesAndExitsZeroOnSigterm() throws Exception {
        int spicePort = freePort();
        int metricsPort = freePort();
        start("--listen", "127.0.0.1:" + spicePort, "--metrics", "127.0.0.1:" + metricsPort);
        HttpClient http = HttpClient.newHttpClient();
        URI metrics = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
        // the metrics endpoint starts last: once it answers, the server and the demo run
        await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> scrape(http, metrics).contains("spicestream_device_frames_in_total"));

        // the built-in browser client on the SPICE port
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spicePort + "/"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<script type=\"module\" src=\"js/app.js\">");
        HttpResponse<String> app = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spicePort + "/js/app.js"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(app.statusCode()).isEqualTo(200);
        assertThat(app.headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");

        InetSocketAddress server = new InetSocketAddress("127.0.0.1", spicePort);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server, "")) {
            assertThat(main.linkResult()).isZero();
            try (SpiceTestClient display =
                    main.linkChannel(SpiceChannelType.DISPLAY, 0, CAP_STREAM_REPORT, CAP_MULTI_CODEC, CAP_CODEC_MJPEG)) {
                assertThat(display.linkResult()).isZero();

                SpiceTestClient.Message create = display.next(MSG_STREAM_CREATE);
                assertThat(create.body()[9]).as("codec of STREAM_CREATE").isEqualTo((byte) CODEC_MJPEG);

                List<byte[]> frames = new ArrayList<>();
                while (frames.size() < 5) {
                    byte[] body = display.next(MSG_STREAM_DATA).body();
                    byte[] jpeg = Arrays.copyOfRange(body, STREAM_DATA_HEAD, body.length);
                    assertThat(jpeg.length).isGreaterThan(4);
                    assertThat(Arrays.copyOfRange(jpeg, 0, 2)).as("SOI").containsExactly(0xff, 0xd8);
                    assertThat(Arrays.copyOfRange(jpeg, jpeg.length - 2, jpeg.length)).as("EOI")
                            .containsExactly(0xff, 0xd9);
                    frames.add(jpeg);
                }
                assertThat(frames.get(0)).as("frames change").isNotEqualTo(frames.get(4));

                double first = value(FRAMES_IN, scrape(http, metrics));
                assertThat(first).isPositive();
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                        .until(() -> value(FRAMES_IN, scrape(http, metrics)) > first);
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                        .until(() -> value(CLIENT_FRAMES_SENT, scrape(http, metrics)) > 0);

                // SIGTERM: clients are told DISCONNECTING, the process exits 0 in time
                process.destroy();
                assertThat(process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
                        .as("exited within %s", EXIT_TIMEOUT).isTrue();
                assertThat(process.exitValue()).isZero();
                assertThat(main.next(SpiceMessages.MSG_DISCONNECTING)).isNotNull();
                assertThat(main.awaitClosed(EXIT_TIMEOUT)).isTrue();
            }
        }
        assertThat(Files.readString(log)).contains("spice-streamd ready", "stopped");
    }

    @Test
    void passwordOnTheCommandLineIsRefused() throws Exception {
        start("--password", "hunter2", "--listen", "127.0.0.1:" + freePort());
        assertThat(process.waitFor(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(SpiceStreamdCommand.EXIT_USAGE);
        assertThat(Files.readString(log)).contains("--password-file").doesNotContain("hunter2");
    }

    @Test
    void shadedJarMergesServiceFilesAndNamesItsMainClass() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(Main.class.getName());
            String providers = read(jar, "META-INF/services/org.spicestream.device.spi.TransportProvider");
            assertThat(providers).contains("org.spicestream.transport.socket.TcpTransportProvider",
                    "org.spicestream.transport.socket.UnixTransportProvider",
                    "org.spicestream.transport.virtio.VirtioTransportProvider");
            assertThat(read(jar, "META-INF/services/org.slf4j.spi.SLF4JServiceProvider"))
                    .contains("ch.qos.logback.classic.spi.LogbackServiceProvider");
            assertThat(jar.getEntry("logback.xml")).isNotNull();
            assertThat(jar.getEntry("org/spicestream/webclient/site/index.html")).as("the browser client").isNotNull();
            assertThat(jar.stream().map(e -> e.getName()).filter(n -> n.matches("META-INF/[^/]*\\.(SF|DSA|RSA)")))
                    .isEmpty();
        }
    }

    private void start(String... args) throws IOException {
        assertThat(JAR).as("the shaded jar (mvn package builds it)").exists();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        log = dir.resolve("spice-streamd.log");
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String read(JarFile jar, String name) throws IOException {
        assertThat(jar.getEntry(name)).as(name).isNotNull();
        try (InputStream in = jar.getInputStream(jar.getEntry(name))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String scrape(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static double value(Pattern p, String scrape) {
        Matcher m = p.matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
