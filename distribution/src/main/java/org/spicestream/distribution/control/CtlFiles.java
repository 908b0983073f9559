package org.spicestream.distribution.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading a small secret file's first line. */
final class CtlFiles {
    /** Largest secret file read. */
    static final long MAX_BYTES = 4096;

    private CtlFiles() {}

    static char[] firstLine(Path file) throws IOException {
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + " is larger than " + MAX_BYTES + " bytes");
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        String line = end < 0 ? text : text.substring(0, end);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        if (line.isEmpty()) {
            throw new IOException(file + " is empty");
        }
        return line.toCharArray();
    }
}
