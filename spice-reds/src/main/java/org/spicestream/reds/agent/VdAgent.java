package org.spicestream.reds.agent;

/**
 * The guest agent's wire protocol (spice-protocol {@code vd_agent.h}): VDI chunk ports, the 20-byte message header,
 * message types, capability bits and the sizes the reference client, server and agent agree on. All integers are
 * little endian.
 */
public final class VdAgent {
    private VdAgent() {}

    // ---- VDI chunks on the virtio port: u32 port, u32 size, then size bytes ----

    /** Size of a VDI chunk header (u32 port, u32 size). */
    public static final int CHUNK_HEADER_SIZE = 8;
    /** Chunk port of messages between the agent and the client(s). */
    public static final int PORT_CLIENT = 1;
    /** Chunk port of messages between the agent and the server itself. */
    public static final int PORT_SERVER = 2;

    /**
     * Largest chunk payload and largest AGENT_DATA body ({@code VD_AGENT_MAX_DATA_SIZE}): clients cut messages into
     * pieces of at most this size, spice-vdagentd drops its port on a larger chunk, and the reference server reads the
     * agent in buffers of this size.
     */
    public static final int MAX_DATA_SIZE = 2048;

    // ---- message header: u32 protocol, u32 type, u64 opaque, u32 size ----

    /** Size of the message header ({@code VDAgentMessage}). */
    public static final int MESSAGE_HEADER_SIZE = 20;
    /** The only protocol version ({@code VD_AGENT_PROTOCOL}). */
    public static final int PROTOCOL = 1;
    /** Offset of {@code type} in the header. */
    public static final int HEADER_TYPE_OFFSET = 4;
    /** Offset of {@code size} in the header. */
    public static final int HEADER_SIZE_OFFSET = 16;

    // ---- message types ----

    public static final int MOUSE_STATE = 1;
    public static final int MONITORS_CONFIG = 2;
    public static final int REPLY = 3;
    public static final int CLIPBOARD = 4;
    public static final int DISPLAY_CONFIG = 5;
    public static final int ANNOUNCE_CAPABILITIES = 6;
    public static final int CLIPBOARD_GRAB = 7;
    public static final int CLIPBOARD_REQUEST = 8;
    public static final int CLIPBOARD_RELEASE = 9;
    public static final int FILE_XFER_START = 10;
    public static final int FILE_XFER_STATUS = 11;
    public static final int FILE_XFER_DATA = 12;
    public static final int CLIENT_DISCONNECTED = 13;
    public static final int MAX_CLIPBOARD = 14;
    public static final int AUDIO_VOLUME_SYNC = 15;
    public static final int GRAPHICS_DEVICE_INFO = 16;

    // ---- capabilities (bit numbers in the ANNOUNCE_CAPABILITIES words) ----

    public static final int CAP_MOUSE_STATE = 0;
    public static final int CAP_MONITORS_CONFIG = 1;
    public static final int CAP_REPLY = 2;
    public static final int CAP_CLIPBOARD = 3;
    public static final int CAP_DISPLAY_CONFIG = 4;
    public static final int CAP_CLIPBOARD_BY_DEMAND = 5;
    public static final int CAP_CLIPBOARD_SELECTION = 6;
    public static final int CAP_SPARSE_MONITORS_CONFIG = 7;
    public static final int CAP_GUEST_LINEEND_LF = 8;
    public static final int CAP_GUEST_LINEEND_CRLF = 9;
    public static final int CAP_MAX_CLIPBOARD = 10;
    public static final int CAP_AUDIO_VOLUME_SYNC = 11;
    public static final int CAP_MONITORS_CONFIG_POSITION = 12;
    public static final int CAP_FILE_XFER_DISABLED = 13;
    public static final int CAP_FILE_XFER_DETAILED_ERRORS = 14;
    public static final int CAP_GRAPHICS_DEVICE_INFO = 15;
    public static final int CAP_CLIPBOARD_NO_RELEASE_ON_REGRAB = 16;
    public static final int CAP_CLIPBOARD_GRAB_SERIAL = 17;

    /** ANNOUNCE_CAPABILITIES body: u32 request, then the capability words. */
    public static final int ANNOUNCE_REQUEST_SIZE = 4;
    /**
     * Most capability words read from an ANNOUNCE_CAPABILITIES (8 words = 256 capabilities; 18 are defined). More
     * words are a protocol violation: the reference has a one-word array.
     */
    public static final int MAX_CAPABILITY_WORDS = 8;

    // ---- clipboard ----

    /** Size of the selection prefix (u8 selection, 3 reserved bytes) sent when CLIPBOARD_SELECTION is agreed. */
    public static final int SELECTION_PREFIX_SIZE = 4;
    public static final int SELECTION_CLIPBOARD = 0;
    public static final int SELECTION_PRIMARY = 1;
    public static final int SELECTION_SECONDARY = 2;
    /** Number of selections the server keeps an owner for (clipboard, primary, secondary). */
    public static final int SELECTIONS = 3;

    public static final int CLIPBOARD_NONE = 0;
    public static final int CLIPBOARD_UTF8_TEXT = 1;

    // ---- monitors config: u32 num_of_monitors, u32 flags, num × {u32 height, u32 width, u32 depth, i32 x, i32 y} ----

    /** Size of the MONITORS_CONFIG head (num_of_monitors, flags). */
    public static final int MONITORS_CONFIG_HEAD_SIZE = 8;
    /** Size of one monitor ({@code VDAgentMonConfig}). */
    public static final int MON_CONFIG_SIZE = 20;
    /** Size of one physical size entry ({@code VDAgentMonitorMM}) present with FLAG_PHYSICAL_SIZE. */
    public static final int MONITOR_MM_SIZE = 4;
    /** MONITORS_CONFIG flag: a physical size array follows the monitors. */
    public static final int MONITORS_FLAG_PHYSICAL_SIZE = 1 << 1;
    /** Most monitors in a MONITORS_CONFIG (the reference server's bound). */
    public static final int MAX_MONITORS = 256;
    /** Largest MONITORS_CONFIG body: head + 256 × (monitor + physical size). */
    public static final int MAX_MONITORS_CONFIG_SIZE =
            MONITORS_CONFIG_HEAD_SIZE + MAX_MONITORS * (MON_CONFIG_SIZE + MONITOR_MM_SIZE);

    // ---- file transfer ----

    public static final int FILE_XFER_STATUS_CANCELLED = 1;

    // ---- reply ----

    public static final int REPLY_SUCCESS = 1;
    public static final int REPLY_ERROR = 2;

    /** A readable name of a message type, for logs. */
    public static String typeName(long type) {
        return switch ((int) type) {
            case MOUSE_STATE -> "MOUSE_STATE";
            case MONITORS_CONFIG -> "MONITORS_CONFIG";
            case REPLY -> "REPLY";
            case CLIPBOARD -> "CLIPBOARD";
            case DISPLAY_CONFIG -> "DISPLAY_CONFIG";
            case ANNOUNCE_CAPABILITIES -> "ANNOUNCE_CAPABILITIES";
            case CLIPBOARD_GRAB -> "CLIPBOARD_GRAB";
            case CLIPBOARD_REQUEST -> "CLIPBOARD_REQUEST";
            case CLIPBOARD_RELEASE -> "CLIPBOARD_RELEASE";
            case FILE_XFER_START -> "FILE_XFER_START";
            case FILE_XFER_STATUS -> "FILE_XFER_STATUS";
            case FILE_XFER_DATA -> "FILE_XFER_DATA";
            case CLIENT_DISCONNECTED -> "CLIENT_DISCONNECTED";
            case MAX_CLIPBOARD -> "MAX_CLIPBOARD";
            case AUDIO_VOLUME_SYNC -> "AUDIO_VOLUME_SYNC";
            case GRAPHICS_DEVICE_INFO -> "GRAPHICS_DEVICE_INFO";
            default -> "type " + type;
        };
    }
}
