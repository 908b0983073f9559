package org.spicestream.reds.internal.agent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.spicestream.reds.agent.VdAgent;

/**
 * Agent capability words (bit {@code n % 32} of word {@code n / 32}) and what the server tells each side of the
 * other's: grab serials are never offered (serials are per client ↔ agent pair, and several viewers are one client to
 * the agent), viewers are told file transfer is disabled (it is not relayed), and with copy-paste off the clipboard
 * capabilities are removed both ways.
 */
public final class AgentCaps {
    private AgentCaps() {}

    /** The capabilities of "the client" as the agent is told them. */
    public static int[] towardsAgent(int[] caps, boolean copyPaste) {
        int[] out = with(caps, VdAgent.CAP_CLIPBOARD_GRAB_SERIAL, false);
        return copyPaste ? out : withoutClipboard(out);
    }

    /** The agent's capabilities as viewers are told them. */
    public static int[] towardsViewers(int[] caps, boolean copyPaste) {
        int[] out = with(caps, VdAgent.CAP_CLIPBOARD_GRAB_SERIAL, false);
        out = with(out, VdAgent.CAP_FILE_XFER_DISABLED, true);
        return copyPaste ? out : withoutClipboard(out);
    }

    private static int[] withoutClipboard(int[] caps) {
        int[] out = with(caps, VdAgent.CAP_CLIPBOARD, false);
        out = with(out, VdAgent.CAP_CLIPBOARD_BY_DEMAND, false);
        return with(out, VdAgent.CAP_CLIPBOARD_SELECTION, false);
    }

    /** {@code caps} with capability {@code cap} set or cleared (the array grows when needed). */
    public static int[] with(int[] caps, int cap, boolean on) {
        int w = cap / 32;
        int[] out = Arrays.copyOf(caps, Math.max(caps.length, on ? w + 1 : caps.length));
        if (w < out.length) {
            out[w] = on ? out[w] | (1 << (cap % 32)) : out[w] & ~(1 << (cap % 32));
        }
        return out;
    }

    /** Whether {@code caps} (null: none) has capability {@code cap}. */
    public static boolean has(int[] caps, int cap) {
        int w = cap / 32;
        return caps != null && w < caps.length && (caps[w] & (1 << (cap % 32))) != 0;
    }

    /** Bitwise or. */
    public static int[] union(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, Math.max(a.length, b.length));
        for (int i = 0; i < b.length; i++) {
            out[i] |= b[i];
        }
        return out;
    }

    /** Whether both name the same capabilities (trailing zero words do not count). */
    public static boolean same(int[] a, int[] b) {
        return Arrays.equals(trim(a), trim(b));
    }

    private static int[] trim(int[] caps) {
        int n = caps.length;
        while (n > 0 && caps[n - 1] == 0) {
            n--;
        }
        return Arrays.copyOf(caps, n);
    }

    /** The capability numbers, for logs. */
    public static String toString(int[] caps) {
        List<Integer> on = new ArrayList<>();
        for (int i = 0; i < caps.length * 32; i++) {
            if (has(caps, i)) {
                on.add(i);
            }
        }
        return on.toString();
    }
}
