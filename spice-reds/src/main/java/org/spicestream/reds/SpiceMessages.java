package org.spicestream.reds;

/** SPICE message type numbers and capability bits used by the server core (spice-wire §5, §6, §8, §11, §13). */
public final class SpiceMessages {
    private SpiceMessages() {}

    // Common server -> client (§6.1)
    public static final int MSG_MIGRATE = 1;
    public static final int MSG_MIGRATE_DATA = 2;
    public static final int MSG_SET_ACK = 3;
    public static final int MSG_PING = 4;
    public static final int MSG_WAIT_FOR_CHANNELS = 5;
    public static final int MSG_DISCONNECTING = 6;
    public static final int MSG_NOTIFY = 7;
    public static final int MSG_LIST = 8;

    // Common client -> server (§6.2)
    public static final int MSGC_ACK_SYNC = 1;
    public static final int MSGC_ACK = 2;
    public static final int MSGC_PONG = 3;
    public static final int MSGC_MIGRATE_FLUSH_MARK = 4;
    public static final int MSGC_MIGRATE_DATA = 5;
    public static final int MSGC_DISCONNECTING = 6;

    /** First channel-specific message number; 1…100 are common to all channels (§4.2). */
    public static final int FIRST_CHANNEL_MESSAGE = 101;

    // Main server -> client (§8.1)
    public static final int MSG_MAIN_INIT = 103;
    public static final int MSG_MAIN_CHANNELS_LIST = 104;
    public static final int MSG_MAIN_MOUSE_MODE = 105;
    public static final int MSG_MAIN_MULTI_MEDIA_TIME = 106;
    public static final int MSG_MAIN_AGENT_CONNECTED = 107;
    public static final int MSG_MAIN_AGENT_DISCONNECTED = 108;
    public static final int MSG_MAIN_AGENT_DATA = 109;
    public static final int MSG_MAIN_AGENT_TOKEN = 110;
    public static final int MSG_MAIN_NAME = 113;
    public static final int MSG_MAIN_UUID = 114;
    public static final int MSG_MAIN_AGENT_CONNECTED_TOKENS = 115;

    // Main client -> server (§8.2)
    public static final int MSGC_MAIN_CLIENT_INFO = 101;
    public static final int MSGC_MAIN_MIGRATE_CONNECTED = 102;
    public static final int MSGC_MAIN_MIGRATE_CONNECT_ERROR = 103;
    public static final int MSGC_MAIN_ATTACH_CHANNELS = 104;
    public static final int MSGC_MAIN_MOUSE_MODE_REQUEST = 105;
    public static final int MSGC_MAIN_AGENT_START = 106;
    public static final int MSGC_MAIN_AGENT_DATA = 107;
    public static final int MSGC_MAIN_AGENT_TOKEN = 108;

    // Inputs server -> client (§11.1)
    public static final int MSG_INPUTS_INIT = 101;
    public static final int MSG_INPUTS_KEY_MODIFIERS = 102;
    public static final int MSG_INPUTS_MOUSE_MOTION_ACK = 111;

    // Inputs client -> server (§11.2)
    public static final int MSGC_INPUTS_KEY_DOWN = 101;
    public static final int MSGC_INPUTS_KEY_UP = 102;
    public static final int MSGC_INPUTS_KEY_MODIFIERS = 103;
    public static final int MSGC_INPUTS_KEY_SCANCODE = 104;
    public static final int MSGC_INPUTS_MOUSE_MOTION = 111;
    public static final int MSGC_INPUTS_MOUSE_POSITION = 112;
    public static final int MSGC_INPUTS_MOUSE_PRESS = 113;
    public static final int MSGC_INPUTS_MOUSE_RELEASE = 114;

    // Common capabilities (§5.1)
    public static final int COMMON_CAP_PROTOCOL_AUTH_SELECTION = 0;
    public static final int COMMON_CAP_AUTH_SPICE = 1;
    public static final int COMMON_CAP_AUTH_SASL = 2;
    public static final int COMMON_CAP_MINI_HEADER = 3;

    // Main channel capabilities (§5.2)
    public static final int MAIN_CAP_SEMI_SEAMLESS_MIGRATE = 0;
    public static final int MAIN_CAP_NAME_AND_UUID = 1;
    public static final int MAIN_CAP_AGENT_CONNECTED_TOKENS = 2;
    public static final int MAIN_CAP_SEAMLESS_MIGRATE = 3;

    // Inputs channel capabilities (§5.4)
    public static final int INPUTS_CAP_KEY_SCANCODE = 0;

    // Mouse modes (§8.5)
    public static final int MOUSE_MODE_SERVER = 1;
    public static final int MOUSE_MODE_CLIENT = 2;

    // NOTIFY (§6.1)
    public static final int NOTIFY_SEVERITY_INFO = 0;
    public static final int NOTIFY_SEVERITY_WARN = 1;
    public static final int NOTIFY_SEVERITY_ERROR = 2;
    public static final int NOTIFY_VISIBILITY_LOW = 0;
    public static final int NOTIFY_VISIBILITY_MEDIUM = 1;
    public static final int NOTIFY_VISIBILITY_HIGH = 2;

    // Keyboard modifier flags (§11.1)
    public static final int KEY_MODIFIER_SCROLL_LOCK = 0x1;
    public static final int KEY_MODIFIER_NUM_LOCK = 0x2;
    public static final int KEY_MODIFIER_CAPS_LOCK = 0x4;
}
