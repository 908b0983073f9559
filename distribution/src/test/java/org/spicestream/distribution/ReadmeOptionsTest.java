package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.WebConfig;

/**
 * README.md's options table is {@link SpiceStreamdCommand#optionsTable()} (the model {@code --help} prints), and
 * lists exactly the options {@code --help} prints, in its order. After changing an option, regenerate the table with
 * {@code mvn -pl distribution test -Dtest=ReadmeOptionsTest -Dspicestreamd.updateReadme=true}.
 */
class ReadmeOptionsTest {

    static final Path README = Path.of("..", "README.md");
    static final String BEGIN = "<!-- options-table: generated from spice-streamd --help by ReadmeOptionsTest -->";
    static final String END = "<!-- /options-table -->";
    static final String UPDATE_PROPERTY = "spicestreamd.updateReadme";

    private static final Pattern HELP_OPTION = Pattern.compile("(?m)^\\s+(?:-[a-zA-Z], )?(--[a-z][a-z-]*)");
    private static final Pattern TABLE_OPTION = Pattern.compile("(?m)^\\| `(?:-[a-zA-Z]`, `)?(--[a-z][a-z-]*)");

    @Test
    void readmeTableIsTheGeneratedTable() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int begin = readme.indexOf(BEGIN);
        int end = readme.indexOf(END);
        assertThat(begin).as("README has the marker %s", BEGIN).isNotNegative();
        assertThat(end).as("README has the marker %s", END).isGreaterThan(begin);
        String current = readme.substring(begin + BEGIN.length(), end).strip() + "\n";
        String generated = SpiceStreamdCommand.optionsTable();
        if (Boolean.getBoolean(UPDATE_PROPERTY) && !current.equals(generated)) {
            Files.writeString(README, readme.substring(0, begin + BEGIN.length()) + "\n\n" + generated + "\n"
                    + readme.substring(end), StandardCharsets.UTF_8);
            current = generated;
        }
        assertThat(current).as("README's options table (regenerate: -D%s=true)", UPDATE_PROPERTY)
                .isEqualTo(generated);
    }

    @Test
    void theTableListsExactlyWhatHelpPrintsInItsOrder() {
        StringWriter out = new StringWriter();
        SpiceStreamdCommand.Outcome o = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out), "--help");
        assertThat(o.exitCode()).isZero();
        String help = out.toString().replaceAll("\\s+", " "); // undo the line wrapping
        assertThat(names(HELP_OPTION, out.toString())).isEqualTo(names(TABLE_OPTION, SpiceStreamdCommand.optionsTable()))
                .contains("--listen", "--device", "--metrics", "--config", "--help", "--version")
                .doesNotContain("--password");
        // every default the table shows is the one --help shows
        for (String line : SpiceStreamdCommand.optionsTable().split("\n")) {
            Matcher m = Pattern.compile("^\\| `(--[a-z-]+)[^|]*\\| `([^`]+)`").matcher(line);
            if (m.find()) {
                assertThat(help).as("default of %s", m.group(1)).contains("(default: " + m.group(2) + ")");
            }
        }
    }

    @Test
    void humanReadableDefaultsAreTheLibraryDefaults() {
        StringWriter out = new StringWriter();
        Settings s = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out)).settings();
        assertThat(s.defaultVm().limits().sendQueueBytes()).isEqualTo(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES);
        assertThat(s.defaultVm().limits().maxFrameBytes()).isEqualTo(StreamLimits.DATA_MAX_BYTES);
        assertThat(s.web().wsMaxFrameBytes()).isEqualTo(WebConfig.DEFAULT_MAX_WEBSOCKET_FRAME_SIZE);
        assertThat(s.web().httpTimeout()).isEqualTo(WebConfig.DEFAULT_REQUEST_TIMEOUT);
    }

    private static List<String> names(Pattern p, String text) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            names.add(m.group(1));
        }
        return new ArrayList<>(names);
    }
}
