package org.spicestream.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Byte-exact test vectors of the protocol reference ({@code shared/spec/vectors}), read from the classpath. */
public final class Vectors {

    private Vectors() {}

    /** The bytes of vector {@code name} (without the {@code .hex} suffix). */
    public static byte[] bytes(String name) {
        String text = resource(name + ".hex");
        List<Byte> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            for (String token : line.trim().split("\\s+")) {
                if (!token.isEmpty()) {
                    out.add((byte) Integer.parseInt(token, 16));
                }
            }
        }
        byte[] bytes = new byte[out.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = out.get(i);
        }
        return bytes;
    }

    /** The one-line description of vector {@code name}. */
    public static String description(String name) {
        String first = resource(name + ".hex").split("\n", 2)[0];
        return first.startsWith("#") ? first.substring(1).trim() : "";
    }

    /** Names of every vector whose name starts with {@code prefix}, in index order. */
    public static List<String> names(String prefix) {
        List<String> names = new ArrayList<>();
        for (String line : resource("index.txt").split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String file = line.trim().split("\\s+")[0];
            if (file.startsWith(prefix) && file.endsWith(".hex")) {
                names.add(file.substring(0, file.length() - 4));
            }
        }
        return names;
    }

    private static String resource(String file) {
        try (InputStream in = Vectors.class.getResourceAsStream("/vectors/" + file)) {
            if (in == null) {
                throw new IllegalArgumentException("no test vector " + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
