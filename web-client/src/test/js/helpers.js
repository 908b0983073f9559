// Test helpers: the spec's byte vectors (test-support) and key-frame fixtures (stream-channel) read from
// the source tree, and a WebSocket stand-in that records what the client sends and feeds it server bytes.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { webcrypto } from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');

export const SITE = path.resolve(here, '../../main/resources/org/spicestream/webclient/site/js');
export const subtle = webcrypto.subtle;

function parseHex(text) {
  const hex = text.split('\n').filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, '');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.substr(2 * i, 2), 16);
  }
  return out;
}

/** A spec vector (test-support/src/main/resources/vectors/NAME.hex). */
export function vector(name) {
  return parseHex(readFileSync(path.join(repo, 'test-support/src/main/resources/vectors', `${name}.hex`), 'utf8'));
}

/** A real encoder's frame (stream-channel/src/test/resources/keyframes/NAME.hex). */
export function keyframe(name) {
  return parseHex(readFileSync(path.join(repo, 'stream-channel/src/test/resources/keyframes', `${name}.hex`), 'utf8'));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const hex = (bytes) => Buffer.from(bytes).toString('hex');

/** Ways to cut a byte string into WebSocket messages: whole, byte by byte, and in uneven pieces. */
export function splits(bytes) {
  const whole = [bytes];
  const single = Array.from(bytes, (b) => Uint8Array.of(b));
  const uneven = [];
  for (let i = 0, n = 1; i < bytes.length; i += n, n = (n * 3) % 17 + 1) {
    uneven.push(bytes.subarray(i, Math.min(bytes.length, i + n)));
  }
  return { whole, single, uneven };
}

/**
 * Stands in for the browser's WebSocket: records every message the client sends, lets a test deliver
 * server bytes in whatever pieces it likes.
 */
export class FakeWebSocket {
  static last = null;

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = [];
    this.readyState = 0;
    this.bufferedAmount = 0;
    FakeWebSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.();
    });
  }

  send(bytes) {
    this.sent.push(new Uint8Array(bytes));
  }

  deliver(...chunks) {
    for (const c of chunks) {
      const copy = new Uint8Array(c);
      this.onmessage?.({ data: copy.buffer });
    }
  }

  close() {
    if (this.readyState === 3) {
      return;
    }
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code: 1000 }));
  }

  /** Everything sent since the last call, as one byte string. */
  takeSent() {
    const all = concat(...this.sent);
    this.sent = [];
    return all;
  }
}

/** Waits until {@code check()} is true (a few event-loop turns at most). */
export async function until(check, what = 'condition', turns = 200) {
  for (let i = 0; i < turns; i++) {
    if (check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}
