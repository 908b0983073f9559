package org.spicestream.it.browser;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.testsupport.ExternalTools;

/**
 * Debian's chromium, headless, driven over the DevTools protocol from the JDK's WebSocket client (no
 * display, no npm): navigate, evaluate JavaScript, take screenshots of a page area.
 */
public final class HeadlessChromium implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HeadlessChromium.class);

    /** Time for chromium to start and print its DevTools address. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** Time for one DevTools command. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    /** Window size (CSS pixels, device scale factor 1). */
    static final int WINDOW_WIDTH = 1280;
    static final int WINDOW_HEIGHT = 1024;
    /** Console lines kept for failure messages. */
    static final int MAX_CONSOLE_LINES = 400;

    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final Pattern PAGE_WS = Pattern.compile("\"type\":\\s*\"page\"[^}]*?\"webSocketDebuggerUrl\":\\s*\"([^\"]+)\"|"
            + "\"webSocketDebuggerUrl\":\\s*\"(ws://[^\"]+/devtools/page/[^\"]+)\"");
    private static final Pattern RESPONSE_ID = Pattern.compile("^\\{\"id\":(\\d+),");

    private final Process process;
    private final Path profile;
    private final WebSocket ws;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private final List<String> console = java.util.Collections.synchronizedList(new ArrayList<>());
    /** The JDK's WebSocket takes one send at a time; commands come from the test and from the dialog handler. */
    private final Object sendLock = new Object();

    private HeadlessChromium(Process process, Path profile, WebSocket ws) {
        this.process = process;
        this.profile = profile;
        this.ws = ws;
    }

    /** Skips (or fails in CI) without chromium. */
    public static Path requireChromium() {
        return ExternalTools.require("chromium", "chromium");
    }

    public static HeadlessChromium launch() throws IOException, InterruptedException {
        return launch(WINDOW_WIDTH, WINDOW_HEIGHT);
    }

    /** A browser whose window is {@code width × height} CSS pixels, with more command-line switches if given. */
    public static HeadlessChromium launch(int width, int height, String... switches) throws IOException, InterruptedException {
        Path chromium = requireChromium();
        Path profile = Files.createTempDirectory("spicestream-chromium");
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--remote-debugging-port=0",
                "--remote-allow-origins=*", "--user-data-dir=" + profile,
                "--window-size=" + width + "," + height));
        cmd.addAll(List.of(switches));
        cmd.add("about:blank");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<String> browserWs = new CompletableFuture<>();
        Thread drain = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        browserWs.complete(m.group(1));
                    }
                    LOG.debug("chromium: {}", line);
                }
            } catch (IOException e) {
                // process gone
            }
            browserWs.completeExceptionally(new IllegalStateException("chromium exited before DevTools was ready"));
        }, "chromium-output");
        drain.setDaemon(true);
        drain.start();
        String browserUrl;
        try {
            browserUrl = browserWs.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not start: " + e, e);
        }
        URI u = URI.create(browserUrl);
        HttpClient http = HttpClient.newHttpClient();
        String[] found = new String[2]; // the last /json/list answer, the page's WebSocket URL
        try {
            Awaitility.await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
                found[0] = http.send(HttpRequest.newBuilder(URI.create("http://" + u.getHost() + ":" + u.getPort()
                        + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = PAGE_WS.matcher(found[0]);
                if (m.find()) {
                    found[1] = m.group(1) != null ? m.group(1) : m.group(2);
                }
                return found[1] != null;
            });
        } catch (ConditionTimeoutException e) {
            // reported below with the last answer
        }
        String list = found[0];
        String pageUrl = found[1];
        if (pageUrl == null) {
            p.destroyForcibly();
            throw new IllegalStateException("no page target in " + list);
        }
        Listener listener = new Listener();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(pageUrl), listener).join();
        HeadlessChromium c = new HeadlessChromium(p, profile, ws);
        listener.owner = c;
        c.send("Runtime.enable", "{}");
        c.send("Page.enable", "{}");
        c.send("Log.enable", "{}"); // failed loads and CSP violations are reported here, not on the console
        LOG.info("chromium started ({}), page {}", chromium, pageUrl);
        return c;
    }

    /** Sends a DevTools command; returns the raw JSON response. */
    public String send(String method, String paramsJson) {
        int id = ids.incrementAndGet();
        CompletableFuture<String> f = new CompletableFuture<>();
        pending.put(id, f);
        synchronized (sendLock) {
            ws.sendText("{\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + paramsJson + "}", true).join();
        }
        String resp;
        try {
            resp = f.orTimeout(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
        } catch (java.util.concurrent.CompletionException e) {
            pending.remove(id);
            throw new IllegalStateException(method + ": no answer within " + COMMAND_TIMEOUT + "; page console:\n"
                    + String.join("\n", console()), e);
        }
        if (resp.startsWith("{\"id\":" + id + ",\"error\"")) {
            throw new IllegalStateException(method + " failed: " + resp);
        }
        return resp;
    }

    public void navigate(String url) {
        send("Page.navigate", "{\"url\":\"" + url + "\"}");
    }

    /** Evaluates an expression that yields a string; returns the string (null if it yielded null/undefined). */
    public String evaluateString(String expression) {
        return evaluateString(expression, false);
    }

    /**
     * Evaluates an expression that yields a string, or a promise of one when {@code awaitPromise}; null if it yielded
     * null/undefined. An exception in the page fails with its description.
     */
    String evaluateString(String expression, boolean awaitPromise) {
        String resp = send("Runtime.evaluate", "{\"expression\":" + quote(expression) + ",\"returnByValue\":true"
                + (awaitPromise ? ",\"awaitPromise\":true" : "") + "}");
        if (resp.contains("\"exceptionDetails\"")) {
            throw new IllegalStateException("page threw: " + resp.substring(0, Math.min(1000, resp.length())));
        }
        return stringValue(resp);
    }

    /** The "value" string of a response (scanned, not matched by a regex: values can be megabytes of base64). */
    static String stringValue(String resp) {
        String key = "\"value\":\"";
        int start = resp.indexOf(key);
        if (start < 0) {
            return null;
        }
        start += key.length();
        int end = start;
        while (end < resp.length() && resp.charAt(end) != '"') {
            end += resp.charAt(end) == '\\' ? 2 : 1;
        }
        return unescape(resp.substring(start, end));
    }

    /** A mouse event at (x, y) in CSS pixels of the page: mousePressed, mouseReleased, mouseMoved or mouseWheel. */
    void mouse(String type, double x, double y, String button, int buttons, double deltaY) {
        send("Input.dispatchMouseEvent", "{\"type\":\"" + type + "\",\"x\":" + x + ",\"y\":" + y + ",\"button\":\""
                + button + "\",\"buttons\":" + buttons + ",\"clickCount\":" + (type.equals("mouseMoved") ? 0 : 1)
                + ",\"deltaX\":0,\"deltaY\":" + deltaY + "}");
    }

    /**
     * A key event: {@code type} keyDown or keyUp, {@code code} the physical key (KeyboardEvent.code), {@code key} its
     * meaning, {@code keyCode} the Windows virtual key code, {@code modifiers} Alt 1, Ctrl 2, Meta 4, Shift 8.
     */
    void key(String type, String code, String key, int keyCode, int modifiers) {
        send("Input.dispatchKeyEvent", "{\"type\":\"" + type + "\",\"code\":\"" + code + "\",\"key\":\"" + key
                + "\",\"windowsVirtualKeyCode\":" + keyCode + ",\"nativeVirtualKeyCode\":" + keyCode
                + ",\"modifiers\":" + modifiers + "}");
    }

    /** A PNG of the area (CSS pixels) of the page. */
    byte[] screenshot(int x, int y, int width, int height) {
        String resp = send("Page.captureScreenshot", "{\"format\":\"png\",\"clip\":{\"x\":" + x + ",\"y\":" + y
                + ",\"width\":" + width + ",\"height\":" + height + ",\"scale\":1}}");
        Matcher m = Pattern.compile("\"data\":\"([^\"]+)\"").matcher(resp);
        if (!m.find()) {
            throw new IllegalStateException("no screenshot data: " + resp.substring(0, Math.min(200, resp.length())));
        }
        return Base64.getDecoder().decode(m.group(1));
    }

    /** The browser and every process it started (renderer, GPU, utility), for CPU accounting. */
    List<ProcessHandle> processTree() {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        process.descendants().forEach(all::add);
        return all;
    }

    /** The page's console messages, exceptions, browser log entries and JavaScript dialogs (dismissed) so far. */
    public List<String> console() {
        synchronized (console) {
            return List.copyOf(console);
        }
    }

    /** What of {@link #console()} is an error or a warning: exceptions, console.error/warn, failed loads, CSP, dialogs. */
    public List<String> consoleProblems() {
        return console().stream().filter(HeadlessChromium::isProblem).toList();
    }

    private static boolean isProblem(String event) {
        return event.startsWith("{\"method\":\"Runtime.exceptionThrown\"")
                || event.startsWith("{\"method\":\"Page.javascriptDialogOpening\"")
                || event.matches("(?s)\\{\"method\":\"Runtime.consoleAPICalled\",\"params\":\\{\"type\":\"(error|warning|assert)\".*")
                || event.matches("(?s)\\{\"method\":\"Log.entryAdded\".*\"level\":\"(error|warning)\".*");
    }

    private void onMessage(String text) {
        Matcher m = RESPONSE_ID.matcher(text);
        if (m.find()) {
            CompletableFuture<String> f = pending.remove(Integer.parseInt(m.group(1)));
            if (f != null) {
                f.complete(text);
            }
        } else if (text.startsWith("{\"method\":\"Runtime.consoleAPICalled\"")
                || text.startsWith("{\"method\":\"Runtime.exceptionThrown\"")
                || text.startsWith("{\"method\":\"Log.entryAdded\"")) {
            record(text);
        } else if (text.startsWith("{\"method\":\"Page.javascriptDialogOpening\"")) {
            // alert/confirm/prompt block the page and every Runtime.evaluate until answered: note it, dismiss it
            record(text);
            LOG.warn("the page opened a JavaScript dialog, dismissed: {}", text);
            CompletableFuture.runAsync(() -> {
                try {
                    send("Page.handleJavaScriptDialog", "{\"accept\":false}");
                } catch (RuntimeException e) {
                    LOG.warn("dismissing the dialog failed", e);
                }
            });
        }
    }

    private void record(String event) {
        if (console.size() < MAX_CONSOLE_LINES) {
            console.add(event.length() > 500 ? event.substring(0, 500) : event);
        }
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return sb.append('"').toString();
    }

    static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                switch (n) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                    default -> sb.append(n);
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() throws IOException {
        try {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null).join();
        } catch (RuntimeException e) {
            // chromium may be gone already
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();
        private volatile HeadlessChromium owner;

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                HeadlessChromium o = owner;
                if (o != null) {
                    o.onMessage(text);
                }
            }
            webSocket.request(1);
            return null;
        }
    }
}
