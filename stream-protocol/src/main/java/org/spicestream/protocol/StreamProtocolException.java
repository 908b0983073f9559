package org.spicestream.protocol;

import io.netty.handler.codec.DecoderException;

/** The one exception for a stream-protocol violation; carries the NOTIFY_ERROR text the host sends back. */
public final class StreamProtocolException extends DecoderException {

    /** NOTIFY_ERROR texts, exactly as the reference server sends them (B9). */
    public static final String WRONG_FORMAT_SIZE = "Wrong size for StreamMsgFormat";
    public static final String DEVICE_DISPLAY_INFO_TOO_LARGE = "StreamMsgDeviceDisplayInfo too large";
    public static final String DATA_TOO_LARGE = "STREAM_DATA too large";
    public static final String WRONG_CURSOR_MOVE_SIZE = "Wrong size for StreamMsgCursorMove";
    public static final String WRONG_CAPABILITIES_SIZE = "Wrong size for StreamMsgCapabilities";
    public static final String CURSOR_SIZE_INVALID = "Cursor size is invalid";
    public static final String INVALID_MESSAGE_TYPE = "Invalid message type";
    public static final String PROTOCOL_ERROR = "Protocol error";

    private static final long serialVersionUID = 1L;

    private final String notifyErrorText;

    public StreamProtocolException(String notifyErrorText, String detail) {
        super(detail == null || detail.isEmpty() ? notifyErrorText : notifyErrorText + ": " + detail);
        this.notifyErrorText = notifyErrorText;
    }

    /** The text to send to the guest in NOTIFY_ERROR (without the trailing NUL). */
    public String notifyErrorText() {
        return notifyErrorText;
    }
}
