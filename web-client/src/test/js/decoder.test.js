import test from 'node:test';
import assert from 'node:assert/strict';
import { CODEC } from '../../main/resources/org/spicestream/webclient/site/js/constants.js';
import { MAX_DECODE_QUEUE, VideoStreamDecoder } from '../../main/resources/org/spicestream/webclient/site/js/decoder.js';
import { keyframe } from './helpers.js';

/** A VideoDecoder that returns every chunk as a "frame" when told to, and remembers its configuration. */
class FakeVideoDecoder {
  static last = null;

  constructor({ output, error }) {
    this.output = output;
    this.error = error;
    this.state = 'unconfigured';
    this.chunks = [];
    this.configs = [];
    FakeVideoDecoder.last = this;
  }

  configure(config) {
    this.configs.push(config);
    this.state = 'configured';
  }

  decode(chunk) {
    this.chunks.push(chunk);
  }

  get decodeQueueSize() {
    return this.chunks.length;
  }

  /** Outputs the queued chunks whose index is in {@code which} (all by default), skipping the others. */
  emit(which) {
    const chunks = this.chunks;
    this.chunks = [];
    chunks.forEach((c, i) => {
      if (!which || which.includes(i)) {
        this.output({ timestamp: c.timestamp, closed: false, close() { this.closed = true; } });
      }
    });
  }

  reset() {
    this.chunks = [];
    this.state = 'unconfigured';
  }

  close() {
    this.state = 'closed';
  }
}

class Chunk {
  constructor(init) {
    Object.assign(this, init);
  }
}

function decoder() {
  const events = [];
  const cb = {
    onFrame: (frame, meta) => events.push(['frame', meta.n, meta.key]),
    onDrop: (meta, why) => events.push(['drop', meta.n, why]),
    onError: (text, fatal) => events.push(['error', text, fatal]),
  };
  return { d: new VideoStreamDecoder(CODEC.H264, 64, 48, cb, FakeVideoDecoder, Chunk), events };
}

test('nothing is decoded before a key frame; the key frame configures the decoder from its SPS', () => {
  const { d, events } = decoder();
  assert.equal(d.decode(keyframe('h264_1_delta'), { n: 1 }), false);
  assert.deepEqual(events, [['drop', 1, 'waiting for a key frame']]);
  assert.equal(d.decode(keyframe('h264_5_key'), { n: 5 }), true);
  assert.equal(d.decode(keyframe('h264_1_delta'), { n: 6 }), true);
  const fake = FakeVideoDecoder.last;
  assert.deepEqual(fake.configs[0], { codec: 'avc1.64000A', optimizeForLatency: true, hardwareAcceleration: 'no-preference', codedWidth: 64, codedHeight: 48 });
  assert.deepEqual(fake.chunks.map((c) => c.type), ['key', 'delta']);
  fake.emit();
  assert.deepEqual(events.slice(1), [['frame', 5, true], ['frame', 6, false]]);
});

test('frames the decoder skips are counted as drops when a later one comes out', () => {
  const { d, events } = decoder();
  d.decode(keyframe('h264_0_key'), { n: 0 });
  d.decode(keyframe('h264_1_delta'), { n: 1 });
  d.decode(keyframe('h264_2_delta'), { n: 2 });
  FakeVideoDecoder.last.emit([0, 2]);
  assert.deepEqual(events, [['frame', 0, true], ['drop', 1, 'skipped by the decoder'], ['frame', 2, false]]);
});

test('a decoder far behind starts again at the next key frame; its backlog is dropped', () => {
  const { d, events } = decoder();
  d.decode(keyframe('h264_0_key'), { n: 0 });
  for (let i = 1; i <= MAX_DECODE_QUEUE; i++) {
    d.decode(keyframe('h264_1_delta'), { n: i });
  }
  d.decode(keyframe('h264_5_key'), { n: 99 });
  const drops = events.filter((e) => e[0] === 'drop');
  assert.equal(drops.length, MAX_DECODE_QUEUE + 1);
  assert.deepEqual(FakeVideoDecoder.last.chunks.map((c) => c.type), ['key']);
  FakeVideoDecoder.last.emit();
  assert.deepEqual(events[events.length - 1], ['frame', 99, true]);
});

test('a decoder error drops what is pending and waits for the next key frame', () => {
  const { d, events } = decoder();
  d.decode(keyframe('h264_0_key'), { n: 0 });
  FakeVideoDecoder.last.error(Object.assign(new Error('broken bits'), { name: 'EncodingError' }));
  assert.deepEqual(events.slice(0, 2), [['drop', 0, 'decoder error'], ['error', 'avc1.64000A: broken bits', false]]);
  assert.equal(d.decode(keyframe('h264_1_delta'), { n: 1 }), false);
  assert.equal(d.decode(keyframe('h264_5_key'), { n: 5 }), true);
});
