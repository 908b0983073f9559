package org.spicestream.it.qemu;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;

/** QMP's JSON in tests, through jackson-jr: objects become {@code Map<String, Object>}, arrays {@code List<Object>}. */
final class Json {

    private Json() {}

    static Object parse(String text) {
        try {
            return JSON.std.anyFrom(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }

    static String write(Object value) {
        try {
            return JSON.std.asString(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("not writable as JSON: " + e.getMessage(), e);
        }
    }
}
