package org.spicestream.distribution.control;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.util.Map;

/** JSON of the control API (jackson-jr), with bounds on what a request body may hold. */
public final class ControlJson {

    /** Largest request body, in bytes. */
    public static final int MAX_BODY_BYTES = 64 * 1024;
    /** Deepest nesting of objects and arrays. */
    public static final int MAX_NESTING = 8;
    /** Longest string value. */
    public static final int MAX_STRING = 8 * 1024;
    /** Longest number literal. */
    public static final int MAX_NUMBER = 24;

    /** Bounded reader and writer; duplicate keys are an error. */
    public static final JSON JSON_IO = JSON.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING)
                            .maxStringLength(MAX_STRING)
                            .maxNumberLength(MAX_NUMBER)
                            .maxDocumentLength(MAX_BODY_BYTES)
                            .build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(JSON.Feature.WRITE_NULL_PROPERTIES)
            .build();

    private ControlJson() {}

    /**
     * A JSON object.
     *
     * @throws IllegalArgumentException when it is not one JSON object within the bounds
     */
    public static Map<String, Object> object(byte[] body) {
        if (body.length > MAX_BODY_BYTES) {
            throw new IllegalArgumentException("body larger than " + MAX_BODY_BYTES + " bytes");
        }
        try {
            return JSON_IO.mapFrom(body);
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            int nl = msg.indexOf('\n');
            throw new IllegalArgumentException("not a JSON object: " + (nl < 0 ? msg : msg.substring(0, nl)), e);
        }
    }

    /** {@code value} as JSON text. */
    public static String write(Object value) {
        try {
            return JSON_IO.asString(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }
}
