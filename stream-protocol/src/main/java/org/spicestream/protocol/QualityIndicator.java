package org.spicestream.protocol;

import java.nio.charset.StandardCharsets;

/** QUALITY_INDICATOR: free text about the guest's encoding quality (only after the capability was agreed). */
public record QualityIndicator(String text) implements GuestMessage {

    public QualityIndicator {
        if (text == null) {
            throw new IllegalArgumentException("text is required");
        }
        if (text.getBytes(StandardCharsets.UTF_8).length + 1 > StreamLimits.QUALITY_INDICATOR_MAX_BYTES) {
            throw new IllegalArgumentException("quality indicator longer than the host accepts");
        }
    }

    @Override
    public int type() {
        return MessageType.QUALITY_INDICATOR;
    }
}
