package org.spicestream.protocol;

/** Message type numbers of the stream-device protocol header. */
public final class MessageType {
    public static final int INVALID = 0;
    public static final int CAPABILITIES = 1;
    public static final int FORMAT = 2;
    public static final int DATA = 3;
    public static final int START_STOP = 4;
    public static final int NOTIFY_ERROR = 5;
    public static final int CURSOR_SET = 6;
    public static final int CURSOR_MOVE = 7;
    public static final int DEVICE_DISPLAY_INFO = 8;
    public static final int QUALITY_INDICATOR = 9;

    private MessageType() {}
}
