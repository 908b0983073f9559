package org.spicestream.webclient;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.spicestream.testsupport.ExternalTools;

/**
 * Runs the client's own unit tests (src/test/js/*.test.js: wire format, link and ticket, ACK window, stream
 * reports, cursors, key codes, decoders against the spec's vectors and real encoder output) with Node's test
 * runner, so that {@code mvn verify} fails when one of them does.
 */
class NodeUnitTestsTest {

    /** Generous: the suite takes about a second. */
    static final long TIMEOUT_SECONDS = 120;

    @Test
    void nodeTestsPass() throws IOException, InterruptedException {
        Path node = ExternalTools.require("node", "nodejs");
        Path dir = Path.of("src", "test", "js");
        List<String> command = new ArrayList<>(List.of(node.toString(), "--test"));
        try (Stream<Path> files = Files.list(dir)) {
            files.map(Path::toString).filter(f -> f.endsWith(".test.js")).sorted().forEach(command::add);
        }
        assertThat(command).hasSizeGreaterThan(2);
        File log = Files.createTempFile("node-test", ".tap").toFile();
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("node --test did not finish within " + TIMEOUT_SECONDS + " s");
            }
            String tap = Files.readString(log.toPath(), StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(tap).isZero();
            assertThat(count(tap, "tests")).as(tap).isGreaterThan(40);
            assertThat(count(tap, "fail")).as(tap).isZero();
            assertThat(count(tap, "skipped")).as(tap).isZero();
            assertThat(count(tap, "pass")).as(tap).isEqualTo(count(tap, "tests"));
        } finally {
            log.delete();
        }
    }

    private static int count(String tap, String what) {
        Matcher m = Pattern.compile("(?m)^# " + what + " (\\d+)$").matcher(tap);
        if (!m.find()) {
            throw new AssertionError("no '# " + what + "' line in:\n" + tap);
        }
        return Integer.parseInt(m.group(1));
    }
}
