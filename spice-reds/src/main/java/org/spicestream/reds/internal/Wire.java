package org.spicestream.reds.internal;

/** Wire-format constants of the SPICE link and data stages (spice-wire §3, §4). */
public final class Wire {
    private Wire() {}

    /** "REDQ" as a little-endian u32. */
    public static final int LINK_MAGIC = 0x51444552;
    public static final int VERSION_MAJOR = 2;
    public static final int VERSION_MINOR = 2;
    /** SpiceLinkHeader: magic, major, minor, size. */
    public static final int LINK_HEADER_SIZE = 16;
    /** SpiceLinkMess without capabilities. */
    public static final int LINK_MESS_SIZE = 18;
    /** SpiceLinkReply without capabilities. */
    public static final int LINK_REPLY_SIZE = 178;
    /** Upper bound of each capability word count in a link message (B44). */
    public static final int MAX_CAPS_WORDS = 1024;
    /** DER SubjectPublicKeyInfo of an RSA-1024 key with e = 65537. */
    public static final int PUB_KEY_SIZE = 162;
    /** RSA-1024 ciphertext: the ticket. */
    public static final int TICKET_SIZE = 128;
    /** Auth mechanism selection word. */
    public static final int AUTH_MECHANISM_SIZE = 4;
    /** Auth mechanism value for SPICE tickets (= COMMON_CAP_AUTH_SPICE). */
    public static final int AUTH_MECHANISM_SPICE = 1;
    /** Link result after authentication: a bare u32. */
    public static final int LINK_RESULT_SIZE = 4;

    /** Mini data header: u16 type, u32 size. */
    public static final int MINI_HEADER_SIZE = 6;
    /** Full data header: u64 serial, u16 type, u32 size, u32 sub_list. */
    public static final int FULL_HEADER_SIZE = 18;
}
