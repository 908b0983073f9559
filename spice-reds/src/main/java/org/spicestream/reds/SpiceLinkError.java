package org.spicestream.reds;

/** SPICE link error codes ({@code link_err}, spice-wire §3.6). */
public final class SpiceLinkError {
    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int INVALID_MAGIC = 2;
    public static final int INVALID_DATA = 3;
    public static final int VERSION_MISMATCH = 4;
    public static final int NEED_SECURED = 5;
    public static final int NEED_UNSECURED = 6;
    public static final int PERMISSION_DENIED = 7;
    public static final int BAD_CONNECTION_ID = 8;
    public static final int CHANNEL_NOT_AVAILABLE = 9;

    private SpiceLinkError() {}
}
