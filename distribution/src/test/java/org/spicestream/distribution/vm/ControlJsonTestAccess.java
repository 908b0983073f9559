package org.spicestream.distribution.vm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.spicestream.distribution.control.ControlJson;

/** Reads the control API's answers in tests. */
final class ControlJsonTestAccess {
    private ControlJsonTestAccess() {}

    static Map<String, Object> object(String json) {
        return ControlJson.object(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static List<Object> array(String json) {
        try {
            return ControlJson.JSON_IO.listFrom(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
