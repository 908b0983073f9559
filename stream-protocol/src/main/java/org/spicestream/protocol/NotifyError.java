package org.spicestream.protocol;

import java.nio.charset.StandardCharsets;

/** NOTIFY_ERROR: the host tells the guest why it stops listening. */
public record NotifyError(int errorCode, String text) implements HostMessage {

    public NotifyError {
        if (text == null) {
            throw new IllegalArgumentException("text is required");
        }
        if (text.getBytes(StandardCharsets.UTF_8).length + 1 > StreamLimits.NOTIFY_ERROR_TEXT_MAX_BYTES) {
            throw new IllegalArgumentException("NOTIFY_ERROR text longer than the guest accepts");
        }
    }

    /** The message the reference sends for a protocol violation: error code 0 and the exception's text. */
    public static NotifyError of(StreamProtocolException e) {
        return new NotifyError(0, e.notifyErrorText());
    }

    @Override
    public int type() {
        return MessageType.NOTIFY_ERROR;
    }
}
