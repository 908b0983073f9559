import test from 'node:test';
import assert from 'node:assert/strict';
import { CURSOR_TYPE } from '../../main/resources/org/spicestream/webclient/site/js/constants.js';
import { CursorChannel, decodeCursor } from '../../main/resources/org/spicestream/webclient/site/js/cursor.js';
import { Reader } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { vector } from './helpers.js';

/** A view that records what the cursor channel tells it. */
class RecordingView {
  constructor() {
    this.calls = [];
  }
  setCursorShape(s) { this.calls.push(['shape', s && `${s.width}x${s.height}@${s.hotX},${s.hotY}`]); this.shape = s; }
  moveCursor(x, y) { this.calls.push(['move', x, y]); }
  setCursorVisible(v) { this.calls.push(['visible', v]); }
}

function channel() {
  const view = new RecordingView();
  const ch = new CursorChannel({}, view, { url: 'ws://x/', id: 0 });
  return { ch, view };
}

const body = (name) => vector(name).subarray(6);

test('INIT with a shape shows it at the position; SET changes it; MOVE moves it', () => {
  const { ch, view } = channel();
  ch.handleMessage(104, new Reader(Uint8Array.of(1, 0, 2, 0))); // MOVE before INIT: ignored
  assert.deepEqual(view.calls, []);
  ch.handleMessage(101, new Reader(body('s2c_cursor_init_alpha')));
  assert.deepEqual(view.calls, [['shape', '2x2@1,1'], ['move', 640, -3], ['visible', true]]);
  assert.deepEqual([...view.shape.rgba.subarray(0, 8)], [0, 0, 0, 255, 255, 255, 255, 255]); // black, white
  view.calls = [];
  ch.handleMessage(103, new Reader(body('s2c_cursor_set_alpha')));
  ch.handleMessage(104, new Reader(vector('s2c_cursor_move').subarray(6)));
  assert.deepEqual(view.calls, [['shape', '2x2@1,1'], ['visible', true], ['move', 640, -3], ['visible', true]]);
});

test('INIT without a shape hides the pointer', () => {
  const { ch, view } = channel();
  ch.handleMessage(101, new Reader(body('s2c_cursor_init_none')));
  assert.deepEqual(view.calls[0], ['shape', null]);
});

test('ALPHA pixels become straight RGBA (premultiplied input is undone)', () => {
  // B, G, R, A: half-transparent premultiplied red (128, 0, 0, 128) and opaque blue
  const s = decodeCursor(CURSOR_TYPE.ALPHA, 2, 1, 0, 0, Uint8Array.of(0, 0, 128, 128, 255, 0, 0, 255));
  assert.deepEqual([...s.rgba], [255, 0, 0, 128, 0, 0, 255, 255]);
  // straight alpha (a colour above its alpha) is kept as it is
  const t = decodeCursor(CURSOR_TYPE.ALPHA, 1, 1, 0, 0, Uint8Array.of(0, 200, 0, 10));
  assert.deepEqual([...t.rgba], [0, 200, 0, 10]);
});

test('COLOR32 and COLOR24 use the packed AND mask: 1 is transparent', () => {
  const px = [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0];
  const s = decodeCursor(CURSOR_TYPE.COLOR32, 3, 1, 0, 0, Uint8Array.from([...px, 0b01000000]));
  assert.deepEqual([...s.rgba], [3, 2, 1, 255, 6, 5, 4, 0, 9, 8, 7, 255]);
  const c = decodeCursor(CURSOR_TYPE.COLOR24, 2, 1, 0, 0, Uint8Array.of(1, 2, 3, 4, 5, 6, 0b10000000));
  assert.deepEqual([...c.rgba], [3, 2, 1, 0, 6, 5, 4, 255]);
});

test('MONO: AND and XOR masks per row', () => {
  // 2x2, stride 1: AND rows 00, 11; XOR rows 01 (second pixel white), 10 (first pixel inverted)
  const s = decodeCursor(CURSOR_TYPE.MONO, 2, 2, 0, 0, Uint8Array.of(0x00, 0xc0, 0x40, 0x80));
  const alpha = [3, 7, 11, 15].map((i) => s.rgba[i]);
  assert.deepEqual(alpha, [255, 255, 255, 0]);
  assert.equal(s.rgba[4], 255);
  assert.equal(s.rgba[0], 0);
});

test('shapes that are too short, too large or of an undrawn type give nothing', () => {
  assert.equal(decodeCursor(CURSOR_TYPE.ALPHA, 2, 2, 0, 0, new Uint8Array(15)), null);
  assert.equal(decodeCursor(CURSOR_TYPE.ALPHA, 2000, 1, 0, 0, new Uint8Array(8000)), null);
  assert.equal(decodeCursor(CURSOR_TYPE.COLOR16, 1, 1, 0, 0, new Uint8Array(10)), null);
});
