// SPICE protocol numbers used by this client (spice-wire §1–§13). Only what a client of a streaming
// display needs; names follow spice-protocol's enums.

export const CHANNEL = Object.freeze({ MAIN: 1, DISPLAY: 2, INPUTS: 3, CURSOR: 4 });

export const CHANNEL_NAME = Object.freeze({ 1: 'main', 2: 'display', 3: 'inputs', 4: 'cursor' });

export const LINK_ERR = Object.freeze({
  OK: 0,
  ERROR: 1,
  INVALID_MAGIC: 2,
  INVALID_DATA: 3,
  VERSION_MISMATCH: 4,
  NEED_SECURED: 5,
  NEED_UNSECURED: 6,
  PERMISSION_DENIED: 7,
  BAD_CONNECTION_ID: 8,
  CHANNEL_NOT_AVAILABLE: 9,
});

export const LINK_ERR_TEXT = Object.freeze({
  0: 'ok',
  1: 'refused by the server',
  2: 'not a SPICE server (invalid magic)',
  3: 'invalid data',
  4: 'protocol version mismatch',
  5: 'this channel needs TLS: open the page over https',
  6: 'this channel must not use TLS',
  7: 'wrong password',
  8: 'unknown session',
  9: 'channel not available',
});

export const COMMON_CAP = Object.freeze({ AUTH_SELECTION: 0, AUTH_SPICE: 1, AUTH_SASL: 2, MINI_HEADER: 3 });

// Server -> client messages every channel may get (§6.1).
export const MSG = Object.freeze({
  MIGRATE: 1,
  MIGRATE_DATA: 2,
  SET_ACK: 3,
  PING: 4,
  WAIT_FOR_CHANNELS: 5,
  DISCONNECTING: 6,
  NOTIFY: 7,
  LIST: 8,
});

// Client -> server messages every channel may send (§6.2).
export const MSGC = Object.freeze({ ACK_SYNC: 1, ACK: 2, PONG: 3, DISCONNECTING: 6 });

export const MAIN = Object.freeze({
  INIT: 103,
  CHANNELS_LIST: 104,
  MOUSE_MODE: 105,
  MULTI_MEDIA_TIME: 106,
  AGENT_CONNECTED: 107,
  AGENT_DISCONNECTED: 108,
  AGENT_DATA: 109,
  AGENT_TOKEN: 110,
  NAME: 113,
  UUID: 114,
  AGENT_CONNECTED_TOKENS: 115,
});

export const MAINC = Object.freeze({ ATTACH_CHANNELS: 104, MOUSE_MODE_REQUEST: 105 });

export const MAIN_CAP = Object.freeze({ NAME_AND_UUID: 1 });

export const MOUSE_MODE = Object.freeze({ SERVER: 1, CLIENT: 2 });

export const DISPLAY = Object.freeze({
  MODE: 101,
  MARK: 102,
  RESET: 103,
  INVAL_ALL_PALETTES: 108,
  STREAM_CREATE: 122,
  STREAM_DATA: 123,
  STREAM_CLIP: 124,
  STREAM_DESTROY: 125,
  STREAM_DESTROY_ALL: 126,
  DRAW_FILL: 302,
  SURFACE_CREATE: 314,
  SURFACE_DESTROY: 315,
  STREAM_DATA_SIZED: 316,
  MONITORS_CONFIG: 317,
  STREAM_ACTIVATE_REPORT: 319,
});

export const DISPLAYC = Object.freeze({ INIT: 101, STREAM_REPORT: 102, PREFERRED_VIDEO_CODEC_TYPE: 105 });

export const DISPLAY_CAP = Object.freeze({
  SIZED_STREAM: 0,
  MONITORS_CONFIG: 1,
  STREAM_REPORT: 4,
  MULTI_CODEC: 8,
  CODEC_MJPEG: 9,
  CODEC_VP8: 10,
  CODEC_H264: 11,
  PREF_VIDEO_CODEC_TYPE: 12,
  CODEC_VP9: 13,
  CODEC_H265: 14,
});

/** SpiceVideoCodecType values (STREAM_CREATE.codec_type). */
export const CODEC = Object.freeze({ MJPEG: 1, VP8: 2, H264: 3, VP9: 4, H265: 5 });

export const CODEC_NAME = Object.freeze({ 1: 'MJPEG', 2: 'VP8', 3: 'H.264', 4: 'VP9', 5: 'H.265' });

/** The display capability that announces each codec. */
export const CODEC_CAP = Object.freeze({ 1: 9, 2: 10, 3: 11, 4: 13, 5: 14 });

export const SURFACE_FLAG_PRIMARY = 1;
export const STREAM_FLAG_TOP_DOWN = 1;

export const CURSOR = Object.freeze({
  INIT: 101,
  RESET: 102,
  SET: 103,
  MOVE: 104,
  HIDE: 105,
  TRAIL: 106,
  INVAL_ONE: 107,
  INVAL_ALL: 108,
});

export const CURSOR_FLAG = Object.freeze({ NONE: 1, CACHE_ME: 2, FROM_CACHE: 4 });

export const CURSOR_TYPE = Object.freeze({ ALPHA: 0, MONO: 1, COLOR4: 2, COLOR8: 3, COLOR16: 4, COLOR24: 5, COLOR32: 6 });

export const INPUTS = Object.freeze({ INIT: 101, KEY_MODIFIERS: 102, MOUSE_MOTION_ACK: 111 });

export const INPUTSC = Object.freeze({
  KEY_DOWN: 101,
  KEY_UP: 102,
  KEY_MODIFIERS: 103,
  KEY_SCANCODE: 104,
  MOUSE_MOTION: 111,
  MOUSE_POSITION: 112,
  MOUSE_PRESS: 113,
  MOUSE_RELEASE: 114,
});

export const INPUTS_CAP = Object.freeze({ KEY_SCANCODE: 0 });

export const MOUSE_BUTTON = Object.freeze({ LEFT: 1, MIDDLE: 2, RIGHT: 3, UP: 4, DOWN: 5, SIDE: 6, EXTRA: 7 });

/** Button mask bit of each button (u16 buttons_state). */
export const BUTTON_MASK = Object.freeze({ 1: 0x1, 2: 0x2, 3: 0x4, 4: 0x8, 5: 0x10, 6: 0x20, 7: 0x40 });

export const KEY_MODIFIER = Object.freeze({ SCROLL_LOCK: 0x1, NUM_LOCK: 0x2, CAPS_LOCK: 0x4 });

/** The server acknowledges mouse motion in bunches of 4; a client stops at twice that unacknowledged (§11.1). */
export const MOTION_ACK_BUNCH = 4;

export const NOTIFY_SEVERITY = Object.freeze({ 0: 'info', 1: 'warning', 2: 'error' });
