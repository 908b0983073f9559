package org.spicestream.transport.virtio.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;

/**
 * QMP's JSON through jackson-jr: one value per line (objects → {@code Map}, arrays → {@code List}, numbers →
 * {@code Integer}, {@code Long} or {@code Double}, strings, booleans, null), with jackson-core's {@link
 * StreamReadConstraints} as the bounds; duplicate keys and trailing characters are errors. The line length is
 * bounded by the caller (the QMP line limit).
 */
public final class Json {

    /** Deepest nesting of objects and arrays accepted; QMP replies we use are a few levels deep. */
    public static final int MAX_DEPTH = 32;
    /** Longest string value accepted (QMP's are short; the line bound is the real limit). */
    public static final int MAX_STRING = 256 * 1024;
    /** Longest number literal accepted. */
    public static final int MAX_NUMBER = 64;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxStringLength(MAX_STRING)
                    .maxNumberLength(MAX_NUMBER)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final JSON JSON_IO = JSON.builder(FACTORY).enable(JSON.Feature.FAIL_ON_UNKNOWN_TYPE_WRITE).build();

    private Json() {}

    /**
     * Parses one JSON value that spans the whole string (surrounding whitespace allowed).
     *
     * @throws IllegalArgumentException when it is not exactly one JSON value within the bounds
     */
    public static Object parse(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) {
                throw new IllegalArgumentException("unexpected end: no JSON value");
            }
            Object value = JSON_IO.anyFrom(p);
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("trailing characters after the JSON value");
            }
            return value;
        } catch (IOException e) {
            throw new IllegalArgumentException(firstLine(e), e);
        }
    }

    /**
     * Writes {@code value} (maps, collections, strings, numbers, booleans, null) as compact JSON.
     *
     * @throws IllegalArgumentException for a value JSON cannot carry
     */
    public static String write(Object value) {
        try {
            return JSON_IO.asString(value);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not writable as JSON: " + firstLine(e), e);
        }
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
