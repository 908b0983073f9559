package org.spicestream.testsupport.clients;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The flat JSON objects our client scripts print (string, number, boolean and null values; no nesting). */
public final class FlatJson {

    private static final Pattern ENTRY =
            Pattern.compile("\"([a-z_0-9]+)\":\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|[-0-9.eE+]+|true|false|null)");

    private FlatJson() {}

    /** Key → value as text (strings without their quotes). */
    public static Map<String, String> parse(String json) {
        Map<String, String> values = new HashMap<>();
        Matcher m = ENTRY.matcher(json);
        while (m.find()) {
            values.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(2));
        }
        return values;
    }

    /** The last line of {@code output} that is a JSON object, parsed; empty if there is none. */
    public static Map<String, String> lastObject(String output) {
        String[] lines = output.strip().split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (lines[i].startsWith("{")) {
                return parse(lines[i]);
            }
        }
        return Map.of();
    }
}
