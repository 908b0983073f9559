package org.spicestream.reds.internal.web;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** What the HTTP/WebSocket side of a SPICE port needs from the server configuration. */
public record WebSettings(
        Path webRoot,
        int maxInitialLine,
        int maxHeaderSize,
        Duration requestTimeout,
        int maxFrameSize,
        Set<String> allowedOrigins,
        long maxFileSize) {}
