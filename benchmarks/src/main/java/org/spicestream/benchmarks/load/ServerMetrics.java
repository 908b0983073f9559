package org.spicestream.benchmarks.load;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Reads counters from the server's Prometheus endpoint ({@code --metrics}): its own count of dropped frames. */
final class ServerMetrics {

    /** Frames the stream channel refused to a full client queue, all clients (counter). */
    static final String DEVICE_DROPPED = "spicestream_device_frames_dropped_total";
    /** Frames dropped per display client since it joined (gauge, one series per client). */
    static final String CLIENT_DROPPED = "spicestream_client_frames_dropped";
    /** Longest wait for one scrape. */
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    private ServerMetrics() {}

    /** The value of every series of {@code name}, or an empty list if the endpoint cannot be read. */
    static List<Double> values(int port, String name) {
        List<Double> out = new ArrayList<>();
        try {
            var c = URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openConnection();
            c.setConnectTimeout((int) TIMEOUT.toMillis());
            c.setReadTimeout((int) TIMEOUT.toMillis());
            String text;
            try (InputStream in = c.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            for (String line : text.split("\n")) {
                if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                    out.add(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // reported as no values
        }
        return out;
    }

    static double sum(int port, String name) {
        return values(port, name).stream().mapToDouble(Double::doubleValue).sum();
    }
}
