// The inputs channel (spice-wire §11): keys as set-1 scan codes, mouse positions (CLIENT mode) or
// motion (SERVER mode), buttons and wheel; motion waits while 8 are unacknowledged, keeping only the last.

import { BUTTON_MASK, CHANNEL, INPUTS, INPUTSC, INPUTS_CAP, MOTION_ACK_BUNCH } from './constants.js';
import { SpiceChannel } from './channel.js';
import { keyMessageCode } from './scancodes.js';
import { Writer } from './wire.js';

/** Motion messages in flight before the client waits for MOUSE_MOTION_ACK. */
export const MAX_UNACKED_MOTION = 2 * MOTION_ACK_BUNCH;

export class InputsChannel extends SpiceChannel {
  constructor(session, options) {
    super({ ...options, type: CHANNEL.INPUTS, channelCaps: [] });
    this.session = session;
    this.serverModifiers = 0;
    this.unacked = 0;
    this.pendingPosition = null;
    this.pendingMotion = null;
    this.buttons = 0;
    this.sent = { keys: 0, motion: 0, buttons: 0 };
  }

  handleMessage(type, r) {
    switch (type) {
      case INPUTS.INIT:
      case INPUTS.KEY_MODIFIERS:
        this.serverModifiers = r.u16();
        return;
      case INPUTS.MOUSE_MOTION_ACK:
        this.unacked = Math.max(0, this.unacked - MOTION_ACK_BUNCH);
        this.flushMotion();
        return;
      default:
        return;
    }
  }

  keyDown(scancode) {
    this.sent.keys++;
    return this.send(INPUTSC.KEY_DOWN, new Writer(4).u32(keyMessageCode(scancode, false)).toBytes());
  }

  keyUp(scancode) {
    this.sent.keys++;
    return this.send(INPUTSC.KEY_UP, new Writer(4).u32(keyMessageCode(scancode, true)).toBytes());
  }

  /** Raw scan code bytes (Pause), only where the server takes KEY_SCANCODE. */
  scancodes(bytes) {
    if (!this.remoteHasChannelCap(INPUTS_CAP.KEY_SCANCODE)) {
      return false;
    }
    this.sent.keys++;
    return this.send(INPUTSC.KEY_SCANCODE, Uint8Array.from(bytes));
  }

  /** Tells the server the client's lock keys when they differ from what it reported. */
  syncModifiers(modifiers) {
    if (modifiers !== this.serverModifiers) {
      this.serverModifiers = modifiers;
      this.send(INPUTSC.KEY_MODIFIERS, new Writer(2).u16(modifiers).toBytes());
    }
  }

  /** CLIENT mouse mode: absolute position in the pixels of display {@code displayId}. */
  position(x, y, displayId) {
    this.pendingPosition = { x: Math.max(0, Math.round(x)), y: Math.max(0, Math.round(y)), displayId };
    this.flushMotion();
  }

  /** SERVER mouse mode: relative motion, summed while the server has not acknowledged. */
  motion(dx, dy) {
    const p = this.pendingMotion || { dx: 0, dy: 0 };
    p.dx += dx;
    p.dy += dy;
    this.pendingMotion = p;
    this.flushMotion();
  }

  flushMotion(force = false) {
    while ((this.pendingPosition || this.pendingMotion) && (force || this.unacked < MAX_UNACKED_MOTION)) {
      if (this.pendingPosition) {
        const p = this.pendingPosition;
        this.pendingPosition = null;
        this.send(INPUTSC.MOUSE_POSITION, new Writer(11).u32(p.x).u32(p.y).u16(this.buttons).u8(p.displayId).toBytes());
      } else {
        const m = this.pendingMotion;
        this.pendingMotion = null;
        const dx = Math.round(m.dx);
        const dy = Math.round(m.dy);
        if (dx === 0 && dy === 0) {
          continue;
        }
        this.send(INPUTSC.MOUSE_MOTION, new Writer(10).i32(dx).i32(dy).u16(this.buttons).toBytes());
      }
      this.unacked++;
      this.sent.motion++;
    }
  }

  press(button) {
    this.flushMotion(true); // the button goes down where the pointer is
    this.buttons |= BUTTON_MASK[button] || 0;
    this.sent.buttons++;
    this.send(INPUTSC.MOUSE_PRESS, new Writer(3).u8(button).u16(this.buttons).toBytes());
  }

  release(button) {
    this.flushMotion(true);
    this.buttons &= ~(BUTTON_MASK[button] || 0);
    this.sent.buttons++;
    this.send(INPUTSC.MOUSE_RELEASE, new Writer(3).u8(button).u16(this.buttons).toBytes());
  }

  /** One wheel notch: press and release of UP (4) or DOWN (5). */
  wheel(button) {
    this.press(button);
    this.release(button);
  }

  onClosed() {
    this.session.onInputsClosed(this);
  }
}
