package org.spicestream.reds.internal.agent;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.spicestream.reds.agent.AgentProtocolException;
import org.spicestream.reds.agent.VdAgent;

/** Builds the agent messages the server writes itself and reads the few it looks into. */
public final class AgentMessages {
    private AgentMessages() {}

    /** Largest ANNOUNCE_CAPABILITIES body read (request + {@link VdAgent#MAX_CAPABILITY_WORDS} words). */
    public static final int MAX_ANNOUNCE_SIZE = VdAgent.ANNOUNCE_REQUEST_SIZE + 4 * VdAgent.MAX_CAPABILITY_WORDS;

    /** Header + body in one buffer. */
    public static ByteBuf message(ByteBufAllocator alloc, int type, ByteBuf body) {
        int n = body == null ? 0 : body.readableBytes();
        ByteBuf b = alloc.buffer(VdAgent.MESSAGE_HEADER_SIZE + n);
        b.writeIntLE(VdAgent.PROTOCOL).writeIntLE(type).writeLongLE(0).writeIntLE(n);
        if (body != null) {
            b.writeBytes(body, body.readerIndex(), n);
        }
        return b;
    }

    /** ANNOUNCE_CAPABILITIES {request, caps}. */
    public static ByteBuf announce(ByteBufAllocator alloc, boolean request, int[] caps) {
        ByteBuf b = alloc.buffer(VdAgent.MESSAGE_HEADER_SIZE + 4 + 4 * caps.length);
        b.writeIntLE(VdAgent.PROTOCOL).writeIntLE(VdAgent.ANNOUNCE_CAPABILITIES).writeLongLE(0)
                .writeIntLE(VdAgent.ANNOUNCE_REQUEST_SIZE + 4 * caps.length);
        b.writeIntLE(request ? 1 : 0);
        for (int w : caps) {
            b.writeIntLE(w);
        }
        return b;
    }

    /**
     * CLIPBOARD {[selection prefix], type} without data: the answer to a request nobody can serve (with type NONE
     * spice-vdagent refuses the paste in the guest, spice-gtk hands an empty clipboard to the application).
     */
    public static ByteBuf emptyClipboard(ByteBufAllocator alloc, boolean prefix, int selection, int dataType) {
        ByteBuf b = alloc.buffer(VdAgent.MESSAGE_HEADER_SIZE + 8);
        int size = (prefix ? VdAgent.SELECTION_PREFIX_SIZE : 0) + 4;
        b.writeIntLE(VdAgent.PROTOCOL).writeIntLE(VdAgent.CLIPBOARD).writeLongLE(0).writeIntLE(size);
        if (prefix) {
            b.writeByte(selection).writeZero(VdAgent.SELECTION_PREFIX_SIZE - 1);
        }
        b.writeIntLE(dataType);
        return b;
    }

    /** CLIPBOARD_RELEASE {[selection prefix]}. */
    public static ByteBuf release(ByteBufAllocator alloc, boolean prefix, int selection) {
        ByteBuf b = alloc.buffer(VdAgent.MESSAGE_HEADER_SIZE + VdAgent.SELECTION_PREFIX_SIZE);
        b.writeIntLE(VdAgent.PROTOCOL).writeIntLE(VdAgent.CLIPBOARD_RELEASE).writeLongLE(0)
                .writeIntLE(prefix ? VdAgent.SELECTION_PREFIX_SIZE : 0);
        if (prefix) {
            b.writeByte(selection).writeZero(VdAgent.SELECTION_PREFIX_SIZE - 1);
        }
        return b;
    }

    /** A message of the server port without a body (CLIENT_DISCONNECTED). */
    public static ByteBuf empty(ByteBufAllocator alloc, int type) {
        return message(alloc, type, null);
    }

    /**
     * Cuts a whole message (header + body) into pieces of at most {@link VdAgent#MAX_DATA_SIZE} bytes and takes
     * ownership of {@code whole}.
     */
    public static List<Piece> pieces(Source source, int vdiPort, ByteBuf whole) {
        List<Piece> out = new ArrayList<>();
        int total = whole.readableBytes();
        int off = 0;
        try {
            while (off < total) {
                int n = Math.min(VdAgent.MAX_DATA_SIZE, total - off);
                out.add(new Piece(source, vdiPort, whole.retainedSlice(whole.readerIndex() + off, n), off == 0,
                        total - off - n));
                off += n;
            }
        } finally {
            whole.release();
        }
        return out;
    }

    /** The message's type (header read without consuming). */
    public static int type(ByteBuf message) {
        return (int) message.getUnsignedIntLE(message.readerIndex() + VdAgent.HEADER_TYPE_OFFSET);
    }

    /** The request flag of a whole ANNOUNCE_CAPABILITIES message. */
    public static boolean announceRequest(ByteBuf message) {
        int r = message.readerIndex() + VdAgent.MESSAGE_HEADER_SIZE;
        return message.writerIndex() >= r + 4 && message.getUnsignedIntLE(r) != 0;
    }

    /**
     * The capability words of a whole ANNOUNCE_CAPABILITIES message (header + body).
     *
     * @throws AgentProtocolException when the body has no request field or more than {@link
     *     VdAgent#MAX_CAPABILITY_WORDS} words
     */
    public static int[] announceCaps(ByteBuf message, String peer) {
        int body = message.readableBytes() - VdAgent.MESSAGE_HEADER_SIZE;
        if (body < VdAgent.ANNOUNCE_REQUEST_SIZE || body > MAX_ANNOUNCE_SIZE) {
            throw new AgentProtocolException(peer + " sent an ANNOUNCE_CAPABILITIES of " + body + " bytes; it must hold"
                    + " the request field and at most " + VdAgent.MAX_CAPABILITY_WORDS + " capability words");
        }
        int words = (body - VdAgent.ANNOUNCE_REQUEST_SIZE) / 4;
        int[] caps = new int[words];
        int r = message.readerIndex() + VdAgent.MESSAGE_HEADER_SIZE + VdAgent.ANNOUNCE_REQUEST_SIZE;
        for (int i = 0; i < words; i++) {
            caps[i] = message.getIntLE(r + 4 * i);
        }
        return caps;
    }

    /**
     * Checks a whole MONITORS_CONFIG message: num_of_monitors ≤ {@link VdAgent#MAX_MONITORS} and the body long enough
     * for them (and for the physical sizes when flagged).
     */
    public static void checkMonitorsConfig(ByteBuf message, String peer) {
        int body = message.readableBytes() - VdAgent.MESSAGE_HEADER_SIZE;
        int r = message.readerIndex() + VdAgent.MESSAGE_HEADER_SIZE;
        if (body < VdAgent.MONITORS_CONFIG_HEAD_SIZE) {
            throw new AgentProtocolException(peer + " sent a MONITORS_CONFIG of " + body + " bytes, shorter than its "
                    + VdAgent.MONITORS_CONFIG_HEAD_SIZE + "-byte head");
        }
        long monitors = message.getUnsignedIntLE(r);
        long flags = message.getUnsignedIntLE(r + 4);
        if (monitors > VdAgent.MAX_MONITORS) {
            throw new AgentProtocolException(peer + " sent a MONITORS_CONFIG with " + monitors + " monitors; the limit"
                    + " is " + VdAgent.MAX_MONITORS);
        }
        long need = VdAgent.MONITORS_CONFIG_HEAD_SIZE + monitors * VdAgent.MON_CONFIG_SIZE
                + ((flags & VdAgent.MONITORS_FLAG_PHYSICAL_SIZE) != 0 ? monitors * VdAgent.MONITOR_MM_SIZE : 0);
        if (body < need) {
            throw new AgentProtocolException(peer + " sent a MONITORS_CONFIG of " + body + " bytes for " + monitors
                    + " monitors (flags " + flags + "), which need " + need);
        }
    }

    /**
     * A checked MONITORS_CONFIG message as spice-vdagent accepts it: without the physical-size array (flag cleared,
     * body cut to the monitors). spice-gtk 0.42 always appends the physical sizes, which only a QXL device reads;
     * spice-vdagent (0.22 and later) drops a MONITORS_CONFIG whose size is not exactly head + monitors. Takes ownership
     * of {@code message}; returns it unchanged when it has no physical sizes.
     */
    public static ByteBuf withoutPhysicalSize(ByteBufAllocator alloc, ByteBuf message) {
        int r = message.readerIndex() + VdAgent.MESSAGE_HEADER_SIZE;
        long monitors = message.getUnsignedIntLE(r);
        long flags = message.getUnsignedIntLE(r + 4);
        int body = VdAgent.MONITORS_CONFIG_HEAD_SIZE + (int) monitors * VdAgent.MON_CONFIG_SIZE;
        if ((flags & VdAgent.MONITORS_FLAG_PHYSICAL_SIZE) == 0
                && message.readableBytes() == VdAgent.MESSAGE_HEADER_SIZE + body) {
            return message;
        }
        ByteBuf out = alloc.buffer(VdAgent.MESSAGE_HEADER_SIZE + body);
        out.writeBytes(message, message.readerIndex(), VdAgent.HEADER_SIZE_OFFSET).writeIntLE(body);
        out.writeIntLE((int) monitors).writeIntLE((int) (flags & ~VdAgent.MONITORS_FLAG_PHYSICAL_SIZE));
        out.writeBytes(message, r + VdAgent.MONITORS_CONFIG_HEAD_SIZE, body - VdAgent.MONITORS_CONFIG_HEAD_SIZE);
        message.release();
        return out;
    }
}
