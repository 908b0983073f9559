package org.spicestream.it.browser;

import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.awaitility.core.ConditionTimeoutException;
import org.spicestream.testsupport.media.RgbImage;

/**
 * The built-in client's page in {@link HeadlessChromium}, seen through its measurement API
 * ({@code window.spicestream}): status, the codecs it announced, its canvases, and a record of every frame drawn
 * with the frame number read back from the canvas right after the draw.
 */
public final class ClientPage implements AutoCloseable {

    /** Time for the page to connect, or to show a stream. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /**
     * Reads {@link org.spicestream.testsupport.media.FrameNumberCode}'s blocks out of a canvas: the same integer
     * geometry (rows R = (H + 8) / 16, sample x = (2c + 1)·W / 32, y = r·R + R / 2, luma threshold 128, complement row).
     */
    static final String READ_CODE_JS = readCodeJs(false);

    /**
     * The reader as a JavaScript function {@code readCode(canvas)}. {@code direct}: getImageData on the display canvas
     * itself (cheapest; the browser then warns that the canvas is read often); otherwise the two sample rows are
     * first copied into a canvas made for reading (no warning; the copy snapshots the whole display canvas).
     */
    static String readCodeJs(boolean direct) {
        String rows = direct ? """
                  const ctx = c.getContext('2d');
                  const r0 = ctx.getImageData(0, Math.floor(R / 2), w, 1).data;
                  const r1 = ctx.getImageData(0, R + Math.floor(R / 2), w, 1).data;
                """ : """
                  if (!scratch) scratch = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
                  if (scratch.canvas.width !== w) scratch.canvas.width = w;
                  scratch.canvas.height = 2;
                  scratch.drawImage(c, 0, Math.floor(R / 2), w, 1, 0, 0, w, 1);
                  scratch.drawImage(c, 0, R + Math.floor(R / 2), w, 1, 0, 1, w, 1);
                  const r0 = scratch.getImageData(0, 0, w, 1).data;
                  const r1 = scratch.getImageData(0, 1, w, 1).data;
                """;
        return """
                let scratch = null;
                function readCode(c) {
                  const w = c.width, h = c.height, R = Math.max(1, Math.floor((h + 8) / 16));
                  if (w < 32 || h < 2 * R) return -1;
                """ + rows + """
                  const luma = (d, x) => Math.floor((299 * d[4 * x] + 587 * d[4 * x + 1] + 114 * d[4 * x + 2]) / 1000) > 128;
                  let n = 0;
                  for (let col = 0; col < 16; col++) {
                    const x = Math.floor((2 * col + 1) * w / 32);
                    const bit = luma(r0, x);
                    if (bit === luma(r1, x)) return -1;
                    n = n * 2 + (bit ? 1 : 0);
                  }
                  return n;
                }
                """;
    }

    /** A frame the page drew: which display, the number read back (-1: none), times in wall-clock microseconds. */
    record DrawnFrame(int display, int number, long drawnMicros, long mmTime, long decodeMicros, long arrivedMicros) {}

    final HeadlessChromium chromium;

    public ClientPage(HeadlessChromium chromium) {
        this.chromium = chromium;
    }

    /** Loads the page and waits until its script is up. */
    public ClientPage open(String url) {
        chromium.navigate(url);
        awaitTrue("window.spicestream !== undefined && document.readyState === 'complete'");
        return this;
    }

    public String state() {
        return chromium.evaluateString("spicestream.status().state");
    }

    public String statusText() {
        return chromium.evaluateString("spicestream.status().text");
    }

    public ClientPage awaitState(String state) {
        try {
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> state.equals(state()));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("page state " + state() + " (" + statusText() + "), not " + state + "; log "
                    + chromium.evaluateString("spicestream.log().join(' | ')") + "; console " + chromium.console(), e);
        }
        return this;
    }

    public void awaitTrue(String expression) {
        try {
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                    .until(() -> "true".equals(chromium.evaluateString("String(" + expression + ")")));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("never true in the page: " + expression + "; console " + chromium.console(), e);
        }
    }

    List<String> codecs() {
        return List.of(chromium.evaluateString("spicestream.codecs().join(',')").split(","));
    }

    /** From now on every frame drawn is recorded with the number read back from its canvas. */
    void recordFrames() {
        recordFrames(false);
    }

    /** As {@link #recordFrames()}; {@code direct} reads the canvas without a copy (see {@link #readCodeJs}). */
    void recordFrames(boolean direct) {
        chromium.evaluateString("(() => { if (window.__rec) return 'again'; " + readCodeJs(direct)
                + " const rec = window.__rec = [];"
                + " spicestream.onFrame((f) => { rec.push([f.display, readCode(f.canvas),"
                + " Math.round((f.timeOrigin + f.drawnAt) * 1000), f.mmTime, Math.round((f.decodedAt - f.submittedAt) * 1000),"
                + " Math.round((f.timeOrigin + f.arrivedAt) * 1000)]); if (rec.length > 200000) rec.shift(); });"
                + " return 'ok'; })()");
    }

    /** The frames recorded since the last call. */
    List<DrawnFrame> takeFrames() {
        String json = chromium.evaluateString("JSON.stringify(window.__rec.splice(0))");
        List<DrawnFrame> out = new ArrayList<>();
        String body = json.strip();
        if (body.length() <= 2) {
            return out;
        }
        for (String row : body.substring(2, body.length() - 2).split("\\],\\[")) {
            String[] v = row.split(",");
            out.add(new DrawnFrame(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Long.parseLong(v[2]),
                    Long.parseLong(v[3]), Long.parseLong(v[4]), Long.parseLong(v[5])));
        }
        return out;
    }

    /**
     * The frames drawn over the next {@code window}: collected until a frame drawn at least {@code window} after the
     * start arrives (so the window is the page's own drawing, not a sleep), or the timeout.
     */
    List<DrawnFrame> framesOver(Duration window, long startMicros) {
        List<DrawnFrame> all = new ArrayList<>();
        long end = startMicros + window.toNanos() / 1000;
        await().atMost(window.plus(TIMEOUT)).pollInterval(Duration.ofMillis(100)).until(() -> {
            all.addAll(takeFrames());
            return !all.isEmpty() && all.get(all.size() - 1).drawnMicros() >= end;
        });
        return all.stream().filter(f -> f.drawnMicros() >= startMicros && f.drawnMicros() < end).toList();
    }

    /** The pixels of display {@code id}'s canvas (the decoded pictures as drawn, at the stream's own size). */
    public RgbImage canvas(int id) {
        String url = chromium.evaluateString("document.getElementById('display-" + id + "').toDataURL('image/png')");
        if (url == null || !url.startsWith("data:image/png;base64,")) {
            throw new AssertionError("no canvas for display " + id);
        }
        try {
            return RgbImage.of(ImageIO.read(new ByteArrayInputStream(
                    Base64.getDecoder().decode(url.substring("data:image/png;base64,".length())))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Size of display {@code id}'s canvas as "WxH". */
    public String canvasSize(int id) {
        return chromium.evaluateString("(() => { const c = document.getElementById('display-" + id + "');"
                + " return c ? c.width + 'x' + c.height : null; })()");
    }

    /** Where display {@code id}'s canvas is on the page (CSS pixels): left, top, width, height. */
    double[] canvasBox(int id) {
        String[] v = chromium.evaluateString("(() => { const r = document.getElementById('display-" + id
                + "').getBoundingClientRect(); return [r.left, r.top, r.width, r.height].join(','); })()").split(",");
        return new double[] {Double.parseDouble(v[0]), Double.parseDouble(v[1]), Double.parseDouble(v[2]),
                Double.parseDouble(v[3])};
    }

    /** Leaves the page (before its server goes away: a page left running would try to reconnect). */
    @Override
    public void close() {
        chromium.navigate("about:blank");
    }

    /** The page's wall clock minus ours, in ms (both read the system clock). */
    double clockOffsetMillis() {
        long before = System.currentTimeMillis();
        double page = Double.parseDouble(chromium.evaluateString("String(performance.timeOrigin + performance.now())"));
        long after = System.currentTimeMillis();
        return page - (before + after) / 2.0;
    }
}
