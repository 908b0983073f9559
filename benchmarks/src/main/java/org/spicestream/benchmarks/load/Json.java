package org.spicestream.benchmarks.load;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The report as JSON (maps, lists, strings, numbers, booleans, null), indented, through jackson-jr. */
final class Json {

    private static final JSON PRETTY = JSON.builder().enable(JSON.Feature.PRETTY_PRINT_OUTPUT)
            .enable(JSON.Feature.WRITE_NULL_PROPERTIES).build();

    private Json() {}

    static String write(Object value) {
        try {
            return PRETTY.asString(value) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
