import test from 'node:test';
import assert from 'node:assert/strict';
import { CODEC } from '../../main/resources/org/spicestream/webclient/site/js/constants.js';
import { JpegDecoder } from '../../main/resources/org/spicestream/webclient/site/js/decoder.js';
import { DisplayChannel } from '../../main/resources/org/spicestream/webclient/site/js/display.js';
import { DisplayStats } from '../../main/resources/org/spicestream/webclient/site/js/stats.js';
import { Reader, Writer, capsToWords } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { hex, until, vector } from './helpers.js';

/** A 2D context that records what is drawn. */
function recordingContext(calls) {
  return {
    set fillStyle(v) { calls.push(['fillStyle', v]); },
    fillRect: (...a) => calls.push(['fillRect', ...a]),
    drawImage: (image, ...a) => calls.push(['drawImage', image.name, ...a]),
    save() {}, restore() {}, translate() {}, scale() {},
  };
}

function display() {
  const calls = [];
  const ctx = recordingContext(calls);
  const view = {
    stats: new DisplayStats(),
    canvas: {},
    resize: (w, h) => calls.push(['resize', w, h]),
    context: () => ctx,
    setReady: (r) => calls.push(['ready', r]),
    setMonitors: (heads) => calls.push(['monitors', heads.map((h) => `${h.width}x${h.height}@${h.x},${h.y}`).join(' ')]),
    setMessage: (m) => m && calls.push(['message', m]),
  };
  const frames = [];
  const session = {
    codecs: new Set([CODEC.MJPEG, CODEC.H264]),
    decoderOptions: {},
    mmTime: () => 1000,
    emitFrame: (d, st, meta) => frames.push(meta),
    logDisplay: () => {},
    onDisplayClosed: () => {},
  };
  const ch = new DisplayChannel(session, view, { url: 'ws://x/', id: 0 });
  const sent = [];
  ch.send = (type, body) => sent.push([type, hex(body)]);
  ch.remoteChannelCaps = capsToWords([1, 4, 12]);
  const feed = (name) => {
    const v = vector(name);
    const type = new DataView(v.buffer, v.byteOffset).getUint16(0, true);
    ch.handleMessage(type, new Reader(v.subarray(6)));
  };
  return { ch, calls, sent, frames, feed };
}

test('the display announces what a streaming client decodes and says which codecs it prefers', () => {
  const { ch, sent } = display();
  assert.deepEqual(ch.channelCaps.sort((a, b) => a - b), [0, 1, 4, 8, 9, 11]);
  ch.onReady();
  assert.deepEqual(sent, [[101, '010000a000000000000000000000'], [105, '020301']]);
});

test('surface, monitors, black fill and MARK as the server sends them', () => {
  const { calls, feed } = display();
  feed('s2c_surface_create_streaming');
  feed('s2c_monitors_config');
  feed('s2c_draw_fill_black');
  feed('s2c_mark');
  assert.deepEqual(calls, [['resize', 1024, 768], ['monitors', '1024x768@0,0'], ['fillStyle', '#000000'],
    ['fillRect', 0, 0, 1024, 768], ['ready', true]]);
});

test('a JPEG stream frame is drawn into the destination of its stream; reports follow the activation', async () => {
  const original = JpegDecoder.prototype.decodeImage;
  JpegDecoder.prototype.decodeImage = async (bytes) => ({ name: `jpeg of ${bytes.length} bytes`, close() {} });
  try {
    const { ch, calls, sent, frames, feed } = display();
    feed('s2c_surface_create_streaming');
    feed('s2c_stream_create');
    feed('s2c_stream_activate_report');
    for (let i = 0; i < 5; i++) {
      feed('s2c_stream_data');
    }
    // two JPEGs decode at once, a third waits and newer ones replace it: the first two and the newest are drawn
    await until(() => frames.length === 3, 'three frames drawn');
    assert.deepEqual(calls.filter((c) => c[0] === 'drawImage')[0], ['drawImage', 'jpeg of 4 bytes', 0, 0, 1024, 768]);
    assert.equal(frames[0].mmTime, 0x01020304);
    assert.equal(ch.stats.drops, 2);
    // the fifth frame closes the window of 5: one report, with the margin against the session clock (1000)
    assert.equal(sent.length, 1);
    const r = new DataView(Uint8Array.from(Buffer.from(sent[0][1], 'hex')).buffer);
    assert.deepEqual([sent[0][0], r.getUint32(4, true), r.getUint32(16, true), r.getInt32(24, true)], [102, 1, 5, 0x01020304 - 1000]);
  } finally {
    JpegDecoder.prototype.decodeImage = original;
  }
});

test('frames of an unknown stream get the invalid-stream report (at most once a second)', () => {
  const { sent, feed } = display();
  feed('s2c_stream_data');
  feed('s2c_stream_data');
  assert.deepEqual(sent, [[102, hex(vector('c2s_stream_report_invalid_stream').subarray(6)).replace(/^03/, '00')]]);
});

test('a stream in a codec the browser lacks is refused with the invalid-stream report', () => {
  const { ch, sent, calls, feed } = display();
  feed('s2c_surface_create_streaming');
  const create = vector('s2c_stream_create').slice(6);
  create[9] = CODEC.VP9;
  ch.handleMessage(122, new Reader(create));
  assert.equal(sent.length, 1);
  assert.equal(new DataView(Uint8Array.from(Buffer.from(sent[0][1], 'hex')).buffer).getUint32(20, true), 0xffffffff);
  assert.ok(calls.some((c) => c[0] === 'message' && /VP9 is not decoded/.test(c[1])));
});

test('STREAM_DATA_SIZED carries its own destination', async () => {
  const original = JpegDecoder.prototype.decodeImage;
  JpegDecoder.prototype.decodeImage = async () => ({ name: 'jpeg', close() {} });
  try {
    const { ch, calls, feed } = display();
    feed('s2c_surface_create_streaming');
    feed('s2c_stream_create');
    const body = new Writer().u32(0).u32(7).u32(16).u32(8).i32(10).i32(20).i32(18).i32(36).u32(2).u8(0xff).u8(0xd8).toBytes();
    ch.handleMessage(316, new Reader(body));
    await until(() => calls.some((c) => c[0] === 'drawImage'), 'the sized frame drawn');
    assert.deepEqual(calls.find((c) => c[0] === 'drawImage'), ['drawImage', 'jpeg', 20, 10, 16, 8]);
  } finally {
    JpegDecoder.prototype.decodeImage = original;
  }
});

test('at most one picture per screen refresh: later ones wait for the refresh, the newest wins', () => {
  const callbacks = [];
  globalThis.requestAnimationFrame = (cb) => callbacks.push(cb);
  try {
    const { ch, calls, frames, feed } = display();
    feed('s2c_surface_create_streaming');
    feed('s2c_stream_create');
    const st = ch.streams.get(0);
    const picture = (name) => ({ name, closed: false, close() { this.closed = true; } });
    const meta = () => ({ dest: st.dest, mmTime: 0, submittedAt: 0, decodedAt: 0 });
    const a = picture('a');
    const b = picture('b');
    const c = picture('c');
    ch.draw(st, a, meta());
    ch.draw(st, b, meta());
    ch.draw(st, c, meta());
    const drawn = () => calls.filter((x) => x[0] === 'drawImage').map((x) => x[1]);
    assert.deepEqual(drawn(), ['a']); // at once: nothing drawn yet in this refresh
    assert.ok(b.closed && !c.closed);
    assert.equal(ch.stats.drops, 1);
    callbacks.shift()(); // the refresh: the newest waiting picture goes in
    assert.deepEqual(drawn(), ['a', 'c']);
    callbacks.shift()(); // nothing waiting: the next picture is drawn at once again
    ch.draw(st, picture('d'), meta());
    assert.deepEqual(drawn(), ['a', 'c', 'd']);
    assert.equal(frames.length, 3);
  } finally {
    delete globalThis.requestAnimationFrame;
  }
});
