package org.spicestream.it.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.it.browser.ClientPage;
import org.spicestream.it.browser.HeadlessChromium;
import org.spicestream.it.clients.SpiceGtkProbe;
import org.spicestream.testsupport.ExternalTools;

/**
 * The README's run command, proven with real clients: the built {@code spice-streamd.jar} runs as its own process
 * on the demo default (no VM anywhere), then spice-gtk (through its GObject bindings), Debian's
 * {@code remote-viewer} under Xvfb and the built-in browser client in headless Chromium connect to it and show the
 * moving test pattern.
 *
 * <p>The jar is {@code distribution/target/spice-streamd.jar} of this checkout (system property {@value
 * #JAR_PROPERTY} overrides); it-tests depends on the distribution artifact so the reactor builds it first.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DemoRemoteViewerIT {

    /** System property naming the jar to run. */
    static final String JAR_PROPERTY = "spicestreamd.jar";
    /** The jar relative to it-tests (failsafe runs in the module's directory). */
    static final Path DEFAULT_JAR = Path.of("..", "distribution", "target", "spice-streamd.jar");

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration PICTURE_TIMEOUT = Duration.ofSeconds(40);
    private static final Duration SCREENSHOT_INTERVAL = Duration.ofMillis(500);
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);
    private static final String READY_LINE = "spice-streamd ready";

    // the demo guest's picture (distribution's DemoGuest.Options.DEFAULT and TestPattern)
    private static final int DEMO_WIDTH = 640;
    private static final int DEMO_HEIGHT = 480;
    /** The saturated colour bars of the test pattern (yellow, cyan, green, magenta, red, blue). */
    private static final int[] BAR_COLOURS = {0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff};
    /** Per-channel distance to a bar colour that still counts (MJPEG and scaling blur edges and shift colours). */
    private static final int COLOUR_TOLERANCE = 64;
    /**
     * Pixels of each bar colour a picture of the demo has at least: a bar is 80x320 at 640x480; remote-viewer may
     * scale the display down, so a quarter of that.
     */
    private static final int MIN_BAR_PIXELS = 80 * 320 / 4;
    /** Pixels that differ between two pictures of the moving pattern at least (sweep bar, box, counter, clock). */
    private static final int MIN_CHANGED_PIXELS = 500;
    /** A pixel counts as changed when a channel moved by more than this. */
    private static final int CHANGE_THRESHOLD = 48;

    /** spice-gtk must see at least this many frames (1 s of the demo's 30 fps). */
    private static final int GTK_FRAMES = 30;
    private static final double GTK_TIMEOUT_SECONDS = 60;

    private static final String XVFB_SCREEN = "1280x1024x24";
    /** Where the captures are kept for a look after the run (relative to it-tests). */
    static final Path CAPTURES = Path.of("target", "demo-remote-viewer");

    @TempDir
    static Path dir;

    private Process server;
    private Path serverLog;
    private InetSocketAddress address;

    @BeforeAll
    void startServer() throws Exception {
        Path jar = Path.of(System.getProperty(JAR_PROPERTY, DEFAULT_JAR.toString())).toAbsolutePath().normalize();
        assertThat(jar).as("the shaded jar (mvn package in distribution builds it)").exists();
        int port = freePort();
        serverLog = dir.resolve("spice-streamd.log");
        // the README's run command on a free port instead of 5900
        server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "--listen", "127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(serverLog.toFile()).start();
        await("'" + READY_LINE + "' within " + START_TIMEOUT).atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(100)).until(() -> {
                    assertThat(server.isAlive()).as("spice-streamd exited early:\n%s", Files.readString(serverLog))
                            .isTrue();
                    return Files.readString(serverLog).contains(READY_LINE);
                });
        address = new InetSocketAddress("127.0.0.1", port);
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server == null) {
            return;
        }
        try {
            server.destroy(); // SIGTERM
            assertThat(server.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).as("exit on SIGTERM").isTrue();
            assertThat(server.exitValue()).isZero();
        } finally {
            server.destroyForcibly();
            System.out.println("---- spice-streamd output ----\n" + Files.readString(serverLog));
        }
    }

    @Test
    void spiceGtkShowsTheMovingDemoPattern() throws IOException {
        SpiceGtkProbe.requireSpiceGtk();
        Path first = dir.resolve("gtk-1.png");
        Path second = dir.resolve("gtk-2.png");
        SpiceGtkProbe.Result a = SpiceGtkProbe.run(address, null, GTK_FRAMES, first, GTK_TIMEOUT_SECONDS);
        assertThat(a.string("error")).as(a.output()).isEmpty();
        assertThat(a.number("primary_width")).as(a.output()).isEqualTo(DEMO_WIDTH);
        assertThat(a.number("primary_height")).as(a.output()).isEqualTo(DEMO_HEIGHT);
        assertThat(a.number("invalidates")).as("frames advance").isGreaterThanOrEqualTo(GTK_FRAMES);
        SpiceGtkProbe.Result b = SpiceGtkProbe.run(address, null, GTK_FRAMES, second, GTK_TIMEOUT_SECONDS);
        assertThat(b.string("error")).as(b.output()).isEmpty();
        assertThat(b.number("invalidates")).isGreaterThanOrEqualTo(GTK_FRAMES);

        BufferedImage one = read(first);
        BufferedImage two = read(second);
        assertThat(one.getWidth()).isEqualTo(DEMO_WIDTH);
        assertThat(one.getHeight()).isEqualTo(DEMO_HEIGHT);
        assertShowsColourBars(one, "spice-gtk capture 1");
        assertShowsColourBars(two, "spice-gtk capture 2");
        keep(first, second);
        assertThat(changedPixels(one, two)).as("the two captures differ (the pattern moves)")
                .isGreaterThanOrEqualTo(MIN_CHANGED_PIXELS);
    }

    @Test
    void theBuiltInBrowserClientAtTheRootShowsTheMovingDemoPattern() throws Exception {
        HeadlessChromium.requireChromium();
        try (HeadlessChromium chromium = HeadlessChromium.launch()) {
            // the README: open http://127.0.0.1:5900/ (here the free port): no password in the demo, it connects at once
            ClientPage page = new ClientPage(chromium).open("http://127.0.0.1:" + address.getPort() + "/");
            page.awaitState("connected");
            page.awaitTrue("spicestream.displays().length === 1 && spicestream.displays()[0].framesDrawn > " + GTK_FRAMES);
            assertThat(page.canvasSize(0)).isEqualTo(DEMO_WIDTH + "x" + DEMO_HEIGHT);
            BufferedImage one = page.canvas(0).toBufferedImage();
            int drawn = Integer.parseInt(chromium.evaluateString("String(spicestream.displays()[0].framesDrawn)"));
            page.awaitTrue("spicestream.displays()[0].framesDrawn > " + (drawn + 15));
            BufferedImage two = page.canvas(0).toBufferedImage();
            Path first = dir.resolve("browser-1.png");
            Path second = dir.resolve("browser-2.png");
            ImageIO.write(one, "png", first.toFile());
            ImageIO.write(two, "png", second.toFile());
            keep(first, second);
            assertShowsColourBars(one, "browser canvas 1");
            assertShowsColourBars(two, "browser canvas 2");
            assertThat(changedPixels(one, two)).as("the two canvases differ (the pattern moves)")
                    .isGreaterThanOrEqualTo(MIN_CHANGED_PIXELS);
            page.close();
            assertThat(chromium.consoleProblems()).as("errors on the page's console").isEmpty();
        }
    }

    @Test
    void remoteViewerUnderXvfbShowsTheMovingDemoPattern() throws Exception {
        Path xvfbBin = ExternalTools.require("Xvfb", "xvfb");
        ExternalTools.require("xauth", "xauth"); // what xvfb-run needs; listed so a CI image has the whole set
        Path viewerBin = ExternalTools.require("remote-viewer", "virt-viewer");
        Path importBin = ExternalTools.require("import", "imagemagick");

        List<Process> started = new ArrayList<>();
        try {
            // -displayfd: Xvfb picks a free display and prints its number
            Process xvfb = new ProcessBuilder(xvfbBin.toString(), "-displayfd", "1", "-screen", "0", XVFB_SCREEN,
                    "-nolisten", "tcp").redirectError(dir.resolve("xvfb.log").toFile()).start();
            started.add(xvfb);
            String display = ":" + firstLine(xvfb, TOOL_TIMEOUT).strip();

            ProcessBuilder viewer = new ProcessBuilder(viewerBin.toString(),
                    "spice://" + address.getHostString() + ":" + address.getPort())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("remote-viewer.log").toFile());
            guiEnvironment(viewer.environment(), display);
            started.add(viewer.start());

            // the picture shows up once spice-gtk inside remote-viewer decoded the first frames
            BufferedImage[] shots = new BufferedImage[2];
            Path shot1 = dir.resolve("screen-1.png");
            try {
                await().atMost(PICTURE_TIMEOUT).pollInterval(SCREENSHOT_INTERVAL).until(() -> {
                    assertThat(started.get(1).isAlive()).as("remote-viewer exited:\n%s",
                            Files.readString(dir.resolve("remote-viewer.log"))).isTrue();
                    shots[0] = screenshot(importBin, display, shot1);
                    return shots[0] != null && missingBars(shots[0]).isEmpty();
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // the last screenshot is checked below, with the message that says what is missing
            }
            BufferedImage first = shots[0];
            assertThat(first).as("a screenshot of %s", display).isNotNull();
            keep(shot1);
            assertShowsColourBars(first, "remote-viewer screenshot 1 (" + shot1 + ")");

            Path shot2 = dir.resolve("screen-2.png");
            try {
                // the next screenshot that shows the pattern moved (or the last one taken, checked below)
                await().atMost(PICTURE_TIMEOUT).pollInterval(SCREENSHOT_INTERVAL).until(() -> {
                    shots[1] = screenshot(importBin, display, shot2);
                    return shots[1] != null && changedPixels(first, shots[1]) >= MIN_CHANGED_PIXELS;
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // asserted below
            }
            BufferedImage second = shots[1];
            assertThat(second).as("second screenshot").isNotNull();
            keep(shot2);
            assertShowsColourBars(second, "remote-viewer screenshot 2 (" + shot2 + ")");
            assertThat(changedPixels(first, second)).as("the two screenshots differ (the pattern moves)")
                    .isGreaterThanOrEqualTo(MIN_CHANGED_PIXELS);
        } finally {
            for (int i = started.size() - 1; i >= 0; i--) {
                Process p = started.get(i);
                p.destroy();
                if (!p.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    private static void keep(Path... files) throws IOException {
        Files.createDirectories(CAPTURES);
        for (Path f : files) {
            if (Files.exists(f)) {
                Files.copy(f, CAPTURES.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static void guiEnvironment(Map<String, String> env, String display) {
        env.put("DISPLAY", display);
        env.remove("WAYLAND_DISPLAY");
        env.put("GDK_BACKEND", "x11");
        env.put("NO_AT_BRIDGE", "1"); // no accessibility bus in a bare Xvfb
    }

    /** {@code import -window root}; null when the capture failed (X not ready yet). */
    private BufferedImage screenshot(Path importBin, String display, Path png) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(importBin.toString(), "-display", display, "-window", "root",
                png.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("import.log").toFile());
        guiEnvironment(pb.environment(), display);
        Process p = pb.start();
        try {
            if (!p.waitFor(TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                return null;
            }
        } finally {
            p.destroyForcibly();
        }
        return Files.exists(png) ? ImageIO.read(png.toFile()) : null;
    }

    private static String firstLine(Process p, Duration timeout) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String l = r.readLine();
                return l == null ? "" : l;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String l = line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(l).as("Xvfb display number").matches("\\s*\\d+\\s*");
        return l;
    }

    private static BufferedImage read(Path png) throws IOException {
        assertThat(png).exists();
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image).as("readable PNG %s", png).isNotNull();
        return image;
    }

    private static void assertShowsColourBars(BufferedImage image, String what) {
        assertThat(missingBars(image)).as("%s shows the demo's colour bars (not a flat or empty picture)", what)
                .isEmpty();
    }

    /** Bar colours with fewer than {@link #MIN_BAR_PIXELS} pixels near them, as hex strings. */
    private static List<String> missingBars(BufferedImage image) {
        int[] counts = new int[BAR_COLOURS.length];
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                for (int c = 0; c < BAR_COLOURS.length; c++) {
                    if (near(rgb, BAR_COLOURS[c])) {
                        counts[c]++;
                    }
                }
            }
        }
        List<String> missing = new ArrayList<>();
        for (int c = 0; c < BAR_COLOURS.length; c++) {
            if (counts[c] < MIN_BAR_PIXELS) {
                missing.add(String.format("%06x (%d px)", BAR_COLOURS[c], counts[c]));
            }
        }
        return missing;
    }

    private static boolean near(int rgb, int colour) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs(((rgb >> shift) & 0xff) - ((colour >> shift) & 0xff)) > COLOUR_TOLERANCE) {
                return false;
            }
        }
        return true;
    }

    private static int changedPixels(BufferedImage a, BufferedImage b) {
        assertThat(b.getWidth()).isEqualTo(a.getWidth());
        assertThat(b.getHeight()).isEqualTo(a.getHeight());
        int changed = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    if (Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff)) > CHANGE_THRESHOLD) {
                        changed++;
                        break;
                    }
                }
            }
        }
        return changed;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
