package org.spicestream.reds;

import java.util.Objects;

/**
 * Keyboard and mouse of the inputs channel.
 *
 * @param sink where decoded input events go (B60)
 * @param clientMouseModeAllowed whether clients may switch to CLIENT mouse mode (absolute positions, B56)
 */
public record InputConfig(InputSink sink, boolean clientMouseModeAllowed) {

    /** Input logged at debug level, server mouse mode only. */
    public static final InputConfig DEFAULT = new InputConfig(InputSink.logging(), false);

    public InputConfig {
        Objects.requireNonNull(sink, "sink");
    }

    /** Events to {@code sink}, client mouse mode as before. */
    public InputConfig withSink(InputSink newSink) {
        return new InputConfig(newSink, clientMouseModeAllowed);
    }
}
