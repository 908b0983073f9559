// Little-endian readers and writers, the byte queue fed by WebSocket messages and the SPICE data
// header (mini and full, spice-wire §4). No DOM: Node's test runner uses this module as it is.

/** Thrown for bytes that break the protocol; the channel that got them closes. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Largest message body accepted from a server: a 32 MiB frame plus its headers, with room to spare. */
export const MAX_MESSAGE_SIZE = 48 * 1024 * 1024;

export const MINI_HEADER_SIZE = 6;
export const FULL_HEADER_SIZE = 18;

/** Reads fields in order from a Uint8Array; every read checks the bounds. */
export class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  get remaining() {
    return this.bytes.length - this.pos;
  }

  need(n) {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new ProtocolError(`message too short: ${n} bytes needed at offset ${this.pos} of ${this.bytes.length}`);
    }
  }

  u8() {
    this.need(1);
    return this.bytes[this.pos++];
  }

  u16() {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  i16() {
    this.need(2);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32() {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32() {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A u64 as a Number (exact below 2^53, which covers serials and time stamps). */
  u64() {
    const lo = this.u32();
    const hi = this.u32();
    return hi * 0x100000000 + lo;
  }

  /** The next {@code n} bytes as a view (not a copy). */
  bytesView(n) {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Everything left, as a view. */
  rest() {
    return this.bytesView(this.remaining);
  }

  skip(n) {
    this.need(n);
    this.pos += n;
  }

  /** Rect on the wire: top, left, bottom, right (spice-wire §7.1). */
  rect() {
    const top = this.i32();
    const left = this.i32();
    const bottom = this.i32();
    const right = this.i32();
    return { top, left, bottom, right, width: right - left, height: bottom - top };
  }
}

/** Builds a little-endian message body. */
export class Writer {
  constructor(capacity = 64) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
    this.length = 0;
  }

  ensure(n) {
    if (this.length + n <= this.bytes.length) {
      return;
    }
    let size = this.bytes.length * 2;
    while (size < this.length + n) {
      size *= 2;
    }
    const bigger = new Uint8Array(size);
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u8(v) {
    this.ensure(1);
    this.bytes[this.length++] = v & 0xff;
    return this;
  }

  u16(v) {
    this.ensure(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
    return this;
  }

  u32(v) {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
    return this;
  }

  i32(v) {
    this.ensure(4);
    this.view.setInt32(this.length, v | 0, true);
    this.length += 4;
    return this;
  }

  u64(v) {
    const n = Math.max(0, Math.floor(v));
    this.u32(n % 0x100000000);
    this.u32(Math.floor(n / 0x100000000));
    return this;
  }

  bytesOf(u8) {
    this.ensure(u8.length);
    this.bytes.set(u8, this.length);
    this.length += u8.length;
    return this;
  }

  toBytes() {
    return this.bytes.slice(0, this.length);
  }
}

/**
 * The bytes received so far, as a list of chunks (one per WebSocket message): taking a run that lies
 * inside one chunk returns a view of it, only runs that span chunks are copied.
 */
export class ByteQueue {
  constructor() {
    this.chunks = [];
    this.offset = 0; // read position in chunks[0]
    this.length = 0;
  }

  push(chunk) {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
  }

  /** Removes and returns the next {@code n} bytes (n <= length). */
  take(n) {
    if (n > this.length) {
      throw new RangeError(`take ${n} of ${this.length}`);
    }
    this.length -= n;
    const first = this.chunks[0];
    if (n === 0) {
      return new Uint8Array(0);
    }
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length - this.offset, n - filled);
      out.set(c.subarray(this.offset, this.offset + take), filled);
      filled += take;
      this.offset += take;
      if (this.offset === c.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return out;
  }
}

/** Cuts SPICE messages out of a ByteQueue: mini header (u16 type, u32 size) or full header (§4.1). */
export class MessageReader {
  constructor(queue, miniHeader, maxMessageSize = MAX_MESSAGE_SIZE) {
    this.queue = queue;
    this.miniHeader = miniHeader;
    this.maxMessageSize = maxMessageSize;
    this.header = null;
  }

  /** The next complete message {type, body} or null; throws ProtocolError for a size above the bound. */
  next() {
    const q = this.queue;
    if (this.header === null) {
      const size = this.miniHeader ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;
      if (q.length < size) {
        return null;
      }
      const r = new Reader(q.take(size));
      if (this.miniHeader) {
        this.header = { type: r.u16(), size: r.u32() };
      } else {
        r.u64(); // serial
        const type = r.u16();
        const bodySize = r.u32();
        r.u32(); // sub_list: never used by a streaming server
        this.header = { type, size: bodySize };
      }
      if (this.header.size > this.maxMessageSize) {
        throw new ProtocolError(`message type ${this.header.type} of ${this.header.size} bytes is above the bound of ${this.maxMessageSize}`);
      }
    }
    if (q.length < this.header.size) {
      return null;
    }
    const message = { type: this.header.type, body: q.take(this.header.size) };
    this.header = null;
    return message;
  }
}

/** A whole client message: header + body. {@code serial} is used by the full header only. */
export function encodeMessage(type, body, miniHeader, serial = 0) {
  const headerSize = miniHeader ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;
  const out = new Uint8Array(headerSize + body.length);
  const v = new DataView(out.buffer);
  if (miniHeader) {
    v.setUint16(0, type, true);
    v.setUint32(2, body.length, true);
  } else {
    v.setUint32(0, serial % 0x100000000, true);
    v.setUint32(4, Math.floor(serial / 0x100000000), true);
    v.setUint16(8, type, true);
    v.setUint32(10, body.length, true);
    v.setUint32(14, 0, true);
  }
  out.set(body, headerSize);
  return out;
}

/** Capability numbers (e.g. [0, 3]) as u32 words, bit k of word k/32. */
export function capsToWords(caps) {
  const words = [];
  for (const cap of caps) {
    const w = cap >>> 5;
    while (words.length <= w) {
      words.push(0);
    }
    words[w] = (words[w] | (1 << (cap & 31))) >>> 0;
  }
  return words;
}

export function hasCap(words, cap) {
  const w = cap >>> 5;
  return w < words.length && ((words[w] >>> (cap & 31)) & 1) === 1;
}

/** UTF-8 text up to the first NUL (or the end). */
export function decodeText(bytes) {
  let end = bytes.indexOf(0);
  if (end < 0) {
    end = bytes.length;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, end));
}
