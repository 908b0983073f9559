// The cursor channel (spice-wire §10): the guest's pointer shape and position, handed to the view of
// the display with the same id. Shapes become straight (not premultiplied) RGBA pixels.

import { CHANNEL, CURSOR, CURSOR_FLAG, CURSOR_TYPE } from './constants.js';
import { SpiceChannel } from './channel.js';

/** Largest cursor drawn (the guest protocol allows 1024; browsers show at most 128 as a CSS cursor). */
export const MAX_CURSOR_DIMENSION = 1024;
/** Shapes kept for FROM_CACHE; the oldest goes first. */
export const MAX_CACHED_CURSORS = 128;

/**
 * Pixels of a SPICE cursor as {width, height, hotX, hotY, rgba}, or null for a type this client does not
 * draw (COLOR4, COLOR8, COLOR16) or data too short for its size.
 */
export function decodeCursor(type, width, height, hotX, hotY, data) {
  if (width < 1 || height < 1 || width > MAX_CURSOR_DIMENSION || height > MAX_CURSOR_DIMENSION) {
    return null;
  }
  const n = width * height;
  const rgba = new Uint8ClampedArray(n * 4);
  const maskBit = (mask, i) => (mask[i >> 3] >> (7 - (i & 7))) & 1;
  switch (type) {
    case CURSOR_TYPE.ALPHA: {
      if (data.length < 4 * n) {
        return null;
      }
      // X11 agents send premultiplied ARGB; straight alpha never has a colour above its alpha everywhere
      let premultiplied = true;
      for (let i = 0; i < n && premultiplied; i++) {
        const a = data[4 * i + 3];
        premultiplied = data[4 * i] <= a && data[4 * i + 1] <= a && data[4 * i + 2] <= a;
      }
      for (let i = 0; i < n; i++) {
        const a = data[4 * i + 3];
        const k = premultiplied && a > 0 ? 255 / a : 1;
        rgba[4 * i] = data[4 * i + 2] * k;
        rgba[4 * i + 1] = data[4 * i + 1] * k;
        rgba[4 * i + 2] = data[4 * i] * k;
        rgba[4 * i + 3] = a;
      }
      break;
    }
    case CURSOR_TYPE.COLOR32:
    case CURSOR_TYPE.COLOR24: {
      const bpp = type === CURSOR_TYPE.COLOR32 ? 4 : 3;
      const maskBytes = Math.ceil(n / 8);
      if (data.length < bpp * n + maskBytes) {
        return null;
      }
      const mask = data.subarray(bpp * n);
      for (let i = 0; i < n; i++) {
        rgba[4 * i] = data[bpp * i + 2];
        rgba[4 * i + 1] = data[bpp * i + 1];
        rgba[4 * i + 2] = data[bpp * i];
        rgba[4 * i + 3] = maskBit(mask, i) ? 0 : 255;
      }
      break;
    }
    case CURSOR_TYPE.MONO: {
      const stride = Math.ceil(width / 8);
      if (data.length < 2 * stride * height) {
        return null;
      }
      const and = data.subarray(0, stride * height);
      const xor = data.subarray(stride * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = y * width + x;
          const bit = y * stride * 8 + x;
          const a = maskBit(and, bit);
          const c = maskBit(xor, bit);
          // AND 1 + XOR 0 keeps the screen; AND 1 + XOR 1 inverts it, shown as black here
          const v = a === 0 && c === 1 ? 255 : 0;
          rgba[4 * i] = v;
          rgba[4 * i + 1] = v;
          rgba[4 * i + 2] = v;
          rgba[4 * i + 3] = a === 1 && c === 0 ? 0 : 255;
        }
      }
      break;
    }
    default:
      return null;
  }
  return { width, height, hotX: Math.min(hotX, width - 1), hotY: Math.min(hotY, height - 1), rgba };
}

export class CursorChannel extends SpiceChannel {
  constructor(session, view, options) {
    super({ ...options, type: CHANNEL.CURSOR, channelCaps: [] });
    this.session = session;
    this.view = view;
    this.cache = new Map();
    this.initialised = false;
  }

  handleMessage(type, r) {
    switch (type) {
      case CURSOR.INIT: {
        const x = r.i16();
        const y = r.i16();
        r.u16(); // trail length
        r.u16(); // trail frequency
        const visible = r.u8() !== 0;
        this.initialised = true;
        this.view.setCursorShape(this.readCursor(r));
        this.view.moveCursor(x, y);
        this.view.setCursorVisible(visible);
        return;
      }
      case CURSOR.SET: {
        if (!this.initialised) {
          return; // as spice-gtk: nothing before INIT
        }
        r.i16();
        r.i16();
        r.u8(); // visible: the shape decides (NONE hides)
        const shape = this.readCursor(r);
        this.view.setCursorShape(shape);
        this.view.setCursorVisible(shape !== null);
        return;
      }
      case CURSOR.MOVE:
        if (this.initialised) {
          const x = r.i16();
          const y = r.i16();
          this.view.moveCursor(x, y);
          this.view.setCursorVisible(true);
        }
        return;
      case CURSOR.HIDE:
        this.view.setCursorVisible(false);
        return;
      case CURSOR.RESET:
        this.cache.clear();
        this.initialised = false;
        this.view.setCursorShape(null);
        return;
      case CURSOR.INVAL_ONE:
        this.cache.delete(r.u64());
        return;
      case CURSOR.INVAL_ALL:
        this.cache.clear();
        return;
      default:
        return; // TRAIL
    }
  }

  /** SpiceCursor: flags, then (unless NONE) the header and the pixels to the end of the body. */
  readCursor(r) {
    const flags = r.u16();
    if (flags & CURSOR_FLAG.NONE) {
      return null;
    }
    const unique = r.u64();
    const type = r.u8();
    const width = r.u16();
    const height = r.u16();
    const hotX = r.u16();
    const hotY = r.u16();
    if (flags & CURSOR_FLAG.FROM_CACHE) {
      return this.cache.get(unique) || null;
    }
    const shape = decodeCursor(type, width, height, hotX, hotY, r.rest());
    if (shape && (flags & CURSOR_FLAG.CACHE_ME)) {
      if (this.cache.size >= MAX_CACHED_CURSORS) {
        this.cache.delete(this.cache.keys().next().value);
      }
      this.cache.set(unique, shape);
    }
    return shape;
  }

  onClosed() {
    this.view.setCursorShape(null);
  }
}
