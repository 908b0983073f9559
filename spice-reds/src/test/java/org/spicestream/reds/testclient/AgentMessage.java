package org.spicestream.reds.testclient;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.spicestream.reds.agent.VdAgent;

/** Agent messages (vd_agent.h) as bytes, for tests: header + body, and the pieces a client cuts them into. */
public final class AgentMessage {
    private AgentMessage() {}

    /** Header (protocol 1, type, opaque 0, size) + body. */
    public static byte[] of(int type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(VdAgent.MESSAGE_HEADER_SIZE + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(VdAgent.PROTOCOL).putInt(type).putLong(0).putInt(body.length).put(body);
        return b.array();
    }

    /** Little-endian u32 values. */
    public static byte[] u32(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    /** Concatenation. */
    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** The 4-byte selection prefix. */
    public static byte[] selection(int selection) {
        return new byte[] {(byte) selection, 0, 0, 0};
    }

    /** ANNOUNCE_CAPABILITIES {request, words of the given capability numbers}. */
    public static byte[] announce(boolean request, int... caps) {
        int max = Arrays.stream(caps).max().orElse(0);
        int[] words = new int[max / 32 + 1];
        for (int c : caps) {
            words[c / 32] |= 1 << (c % 32);
        }
        int[] all = new int[words.length + 1];
        all[0] = request ? 1 : 0;
        System.arraycopy(words, 0, all, 1, words.length);
        return of(VdAgent.ANNOUNCE_CAPABILITIES, u32(all));
    }

    /** A message cut into pieces of at most {@link VdAgent#MAX_DATA_SIZE} bytes, as spice-gtk sends it. */
    public static List<byte[]> pieces(byte[] message) {
        List<byte[]> out = new ArrayList<>();
        for (int off = 0; off < message.length; off += VdAgent.MAX_DATA_SIZE) {
            out.add(Arrays.copyOfRange(message, off, Math.min(message.length, off + VdAgent.MAX_DATA_SIZE)));
        }
        return out;
    }

    /** The type of a message (or of the first piece of one). */
    public static int type(byte[] message) {
        return ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).getInt(VdAgent.HEADER_TYPE_OFFSET);
    }

    /** The body of a whole message. */
    public static byte[] body(byte[] message) {
        return Arrays.copyOfRange(message, VdAgent.MESSAGE_HEADER_SIZE, message.length);
    }
}
