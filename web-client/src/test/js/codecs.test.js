import test from 'node:test';
import assert from 'node:assert/strict';
import { CODEC } from '../../main/resources/org/spicestream/webclient/site/js/constants.js';
import { codecString, colorSpaceOf, isKeyFrame, probeCodecs, unescapeRbsp, vp9Header } from '../../main/resources/org/spicestream/webclient/site/js/codecs.js';
import { keyframe } from './helpers.js';

const FIXTURES = { h264: CODEC.H264, h265: CODEC.H265, vp8: CODEC.VP8, vp9: CODEC.VP9 };

test('key frames are told from the bits of real encoder output', () => {
  for (const [name, codec] of Object.entries(FIXTURES)) {
    const flags = [0, 1, 2, 3, 4, 5].map((i) => isKeyFrame(codec, keyframe(`${name}_${i}_${i === 0 || i === 5 ? 'key' : 'delta'}`)));
    assert.deepEqual(flags, [true, false, false, false, false, true], name);
  }
  assert.equal(isKeyFrame(CODEC.MJPEG, Uint8Array.of(0xff, 0xd8)), true);
  assert.equal(isKeyFrame(CODEC.H264, new Uint8Array(0)), false);
  assert.equal(isKeyFrame(CODEC.VP9, Uint8Array.of(0x00)), false);
});

test('codec strings come from the stream headers', () => {
  // x264 High profile (0x64), constraints 0x00, level 1.0 (0x0a) for the 64x48 fixture
  assert.equal(codecString(CODEC.H264, keyframe('h264_0_key')), 'avc1.64000A');
  assert.equal(codecString(CODEC.H264, keyframe('h264_1_delta')), null);
  assert.match(codecString(CODEC.H265, keyframe('h265_0_key')), /^hev1\.1\.6\.L\d+(\.[0-9A-F]{2})*$/);
  assert.equal(codecString(CODEC.VP9, keyframe('vp9_0_key'), 64, 48), 'vp09.00.41.08');
  assert.equal(codecString(CODEC.VP9, keyframe('vp9_0_key'), 3840, 2160), 'vp09.00.51.08');
  assert.equal(codecString(CODEC.VP8, keyframe('vp8_0_key')), 'vp8');
});

test('the VP9 header gives profile and frame type', () => {
  assert.deepEqual(vp9Header(keyframe('vp9_0_key')), { profile: 0, keyFrame: true, bitDepth: 8, colorSpace: 0, fullRange: false });
  assert.equal(vp9Header(keyframe('vp9_1_delta')).keyFrame, false);
  assert.equal(vp9Header(Uint8Array.of(0x40)), null);
});

test('colour spaces: VP8 is BT.601, VP9 says its own, unknown follows the picture height', () => {
  assert.equal(colorSpaceOf(CODEC.VP8, keyframe('vp8_0_key'), 1080).matrix, 'smpte170m');
  assert.equal(colorSpaceOf(CODEC.H264, keyframe('h264_0_key'), 1080), null);
  // the fixture's key frame leaves color_space unknown (0)
  assert.equal(colorSpaceOf(CODEC.VP9, keyframe('vp9_0_key'), 480).matrix, 'smpte170m');
  assert.equal(colorSpaceOf(CODEC.VP9, keyframe('vp9_0_key'), 720).matrix, 'bt709');
  // color_space 2 (BT.709) full range, written into a copy of the header: bits after the sync code
  const k = keyframe('vp9_0_key').slice();
  // byte 4 holds color_space (3 bits) and color_range (1 bit) at its top for profile 0
  k[4] = (k[4] & 0x0f) | (2 << 5) | (1 << 4);
  assert.deepEqual(colorSpaceOf(CODEC.VP9, k, 480), { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: true });
});

test('emulation-prevention bytes are removed', () => {
  assert.deepEqual([...unescapeRbsp(Uint8Array.of(1, 0, 0, 3, 1, 0, 0, 3, 0), 0, 10)], [1, 0, 0, 1, 0, 0, 0]);
});

test('a codec is announced only when every probe of it is supported', async () => {
  const supported = new Set(['avc1.42E01F', 'avc1.640028', 'vp8']);
  const fake = { isConfigSupported: async (c) => ({ supported: supported.has(c.codec) }) };
  const { codecs } = await probeCodecs(fake);
  assert.deepEqual([...codecs].sort(), [CODEC.MJPEG, CODEC.VP8, CODEC.H264].sort());
  supported.delete('avc1.640028'); // baseline only (OpenH264): a High stream could not be shown
  assert.deepEqual([...(await probeCodecs(fake)).codecs].sort(), [CODEC.MJPEG, CODEC.VP8].sort());
  assert.deepEqual([...(await probeCodecs(undefined)).codecs], [CODEC.MJPEG]);
  const failing = { isConfigSupported: async () => { throw new TypeError('bad'); } };
  assert.deepEqual([...(await probeCodecs(failing)).codecs], [CODEC.MJPEG]);
});
