package org.spicestream.reds.internal;

import io.netty.buffer.ByteBuf;
import org.spicestream.reds.SpiceLinkError;
import org.spicestream.reds.SpiceMessages;

/** A parsed client SpiceLinkMess (spice-wire §3.3). */
public record LinkMess(long connectionId, int channelType, int channelId, int[] commonCaps, int[] channelCaps) {

    /** Thrown by {@link #parse} with the link error to report. */
    public static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;
        private final int linkError;

        public Invalid(int linkError, String message) {
            super(message, null, false, false);
            this.linkError = linkError;
        }

        public int linkError() {
            return linkError;
        }
    }

    /** Parses the {@code size} bytes after the link header (B44 checks on counts and offsets). */
    public static LinkMess parse(ByteBuf body, int size) throws Invalid {
        int base = body.readerIndex();
        if (size < Wire.LINK_MESS_SIZE || body.readableBytes() < size) {
            throw new Invalid(SpiceLinkError.INVALID_DATA, "link message too short: " + size);
        }
        long connectionId = body.getUnsignedIntLE(base);
        int type = body.getUnsignedByte(base + 4);
        int id = body.getUnsignedByte(base + 5);
        long numCommon = body.getUnsignedIntLE(base + 6);
        long numChannel = body.getUnsignedIntLE(base + 10);
        long capsOffset = body.getUnsignedIntLE(base + 14);
        if (numCommon > Wire.MAX_CAPS_WORDS || numChannel > Wire.MAX_CAPS_WORDS) {
            throw new Invalid(SpiceLinkError.INVALID_DATA, "too many capability words: " + numCommon + "/" + numChannel);
        }
        long total = numCommon + numChannel;
        if (total > 0 && (capsOffset < Wire.LINK_MESS_SIZE || capsOffset + 4 * total > size)) {
            throw new Invalid(SpiceLinkError.INVALID_DATA, "capabilities outside the link message: offset "
                    + capsOffset + ", " + total + " words, size " + size);
        }
        int[] common = new int[(int) numCommon];
        int[] channel = new int[(int) numChannel];
        int at = base + (int) capsOffset;
        for (int i = 0; i < common.length; i++, at += 4) {
            common[i] = body.getIntLE(at);
        }
        for (int i = 0; i < channel.length; i++, at += 4) {
            channel[i] = body.getIntLE(at);
        }
        return new LinkMess(connectionId, type, id, common, channel);
    }

    public boolean hasCommonCap(int cap) {
        return Caps.has(commonCaps, cap);
    }

    public boolean hasChannelCap(int cap) {
        return Caps.has(channelCaps, cap);
    }

    /** Both sides use the mini header iff the client offered it (the server always does, §4.1). */
    public boolean miniHeader() {
        return hasCommonCap(SpiceMessages.COMMON_CAP_MINI_HEADER);
    }
}
