package org.spicestream.reds;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

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

    /**
     * Parses a comma-separated list of channel names ({@code main,display,inputs,cursor,...}, the names of
     * {@link #name}) or numbers; {@code all} means every type 1…11; empty means none.
     */
    public static Set<Integer> parseList(String list) {
        Set<Integer> types = new TreeSet<>();
        for (String part : list.split(",")) {
            String p = part.strip().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals("all")) {
                for (int t = MAIN; t <= WEBDAV; t++) {
                    types.add(t);
                }
                continue;
            }
            int found = -1;
            for (int t = MAIN; t <= WEBDAV; t++) {
                if (name(t).equals(p)) {
                    found = t;
                }
            }
            if (found < 0) {
                try {
                    found = Integer.parseInt(p);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("unknown channel type '" + part.strip() + "'");
                }
                if (found < MAIN || found > 255) {
                    throw new IllegalArgumentException("channel type out of range: " + found);
                }
            }
            types.add(found);
        }
        return types;
    }
}
