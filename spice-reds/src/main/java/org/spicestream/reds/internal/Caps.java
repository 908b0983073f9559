package org.spicestream.reds.internal;

import java.util.Arrays;

/** Capability bit sets as sent in the link stage: capability k is bit (k mod 32) of word k/32 (spice-wire §3.3). */
public final class Caps {
    private Caps() {}

    /** The words for the given capability numbers (empty array when none). */
    public static int[] words(int... caps) {
        int max = -1;
        for (int c : caps) {
            if (c < 0) {
                throw new IllegalArgumentException("negative capability " + c);
            }
            max = Math.max(max, c);
        }
        int[] words = new int[max < 0 ? 0 : max / 32 + 1];
        for (int c : caps) {
            words[c / 32] |= 1 << (c % 32);
        }
        return words;
    }

    /** True if capability {@code cap} is set in {@code words}. */
    public static boolean has(int[] words, int cap) {
        int w = cap / 32;
        return cap >= 0 && w < words.length && (words[w] & (1 << (cap % 32))) != 0;
    }

    public static String toString(int[] words) {
        return Arrays.toString(Arrays.stream(words).mapToObj(w -> "0x" + Integer.toHexString(w)).toArray());
    }
}
