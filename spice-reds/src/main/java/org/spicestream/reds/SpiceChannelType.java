package org.spicestream.reds;

/** SPICE channel type numbers (spice-wire §1). */
public final class SpiceChannelType {
    public static final int MAIN = 1;
    public static final int DISPLAY = 2;
    public static final int INPUTS = 3;
    public static final int CURSOR = 4;
    public static final int PLAYBACK = 5;
    public static final int RECORD = 6;
    public static final int TUNNEL = 7;
    public static final int SMARTCARD = 8;
    public static final int USBREDIR = 9;
    public static final int PORT = 10;
    public static final int WEBDAV = 11;

    private SpiceChannelType() {}

    /** Lower-case name used in log contexts, e.g. "display". */
    public static String name(int type) {
        return switch (type) {
            case MAIN -> "main";
            case DISPLAY -> "display";
            case INPUTS -> "inputs";
            case CURSOR -> "cursor";
            case PLAYBACK -> "playback";
            case RECORD -> "record";
            case TUNNEL -> "tunnel";
            case SMARTCARD -> "smartcard";
            case USBREDIR -> "usbredir";
            case PORT -> "port";
            case WEBDAV -> "webdav";
            default -> "type" + type;
        };
    }
}
