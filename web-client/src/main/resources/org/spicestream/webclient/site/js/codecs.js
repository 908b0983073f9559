// What the browser decodes, and what the decoders need to know from the bits: key frames and the
// WebCodecs codec string (profile/level) of H.264, H.265 and VP9 streams.

import { CODEC } from './constants.js';

/**
 * Configurations probed with VideoDecoder.isConfigSupported; a codec is announced only when every one
 * of its probes is supported (SPICE cannot negotiate profiles: a guest may send any of them).
 */
export const PROBES = Object.freeze({
  [CODEC.H264]: ['avc1.42E01F', 'avc1.640028'], // constrained baseline 3.1, high 4.0
  [CODEC.VP8]: ['vp8'],
  [CODEC.VP9]: ['vp09.00.41.08'], // profile 0, level 4.1, 8 bit
  [CODEC.H265]: ['hev1.1.6.L120.90'], // main, level 4
});

/**
 * The codecs this browser can show: MJPEG always (the image decoder), the others where WebCodecs'
 * VideoDecoder supports them. Returns {codecs: Set of CODEC values, details: {name: text}}.
 */
export async function probeCodecs(VideoDecoderImpl = globalThis.VideoDecoder) {
  const codecs = new Set([CODEC.MJPEG]);
  const details = {};
  if (!VideoDecoderImpl || typeof VideoDecoderImpl.isConfigSupported !== 'function') {
    details.webcodecs = 'VideoDecoder is missing: only MJPEG can be shown';
    return { codecs, details };
  }
  for (const [codec, strings] of Object.entries(PROBES)) {
    const results = await Promise.all(strings.map((s) => VideoDecoderImpl.isConfigSupported({ codec: s, optimizeForLatency: true })
      .then((r) => r.supported === true, () => false)));
    details[codec] = strings.map((s, i) => `${s}: ${results[i] ? 'yes' : 'no'}`).join(', ');
    if (results.every(Boolean)) {
      codecs.add(Number(codec));
    }
  }
  return { codecs, details };
}

/** Start-code positions of an Annex-B buffer: [{start (of the 00 00 01), header (NAL header offset)}]. */
export function* annexBNals(bytes) {
  const n = bytes.length;
  for (let i = 0; i + 3 < n; i++) {
    if (bytes[i + 2] > 1) {
      i += 2; // cannot be inside a start code
      continue;
    }
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      yield { start: i, header: i + 3 };
      i += 2;
    }
  }
}

export function h264NalType(bytes, header) {
  return bytes[header] & 0x1f;
}

export function h265NalType(bytes, header) {
  return (bytes[header] >> 1) & 0x3f;
}

/** Whether a decoder can start at this frame (one access unit / VPx frame / JPEG). */
export function isKeyFrame(codec, bytes) {
  switch (codec) {
    case CODEC.MJPEG:
      return true;
    case CODEC.VP8:
      return bytes.length > 0 && (bytes[0] & 1) === 0;
    case CODEC.VP9:
      return vp9Header(bytes)?.keyFrame === true;
    case CODEC.H264:
      for (const nal of annexBNals(bytes)) {
        const t = h264NalType(bytes, nal.header);
        if (t === 5) {
          return true;
        }
        if (t >= 1 && t <= 4) {
          return false; // the first slice decides
        }
      }
      return false;
    case CODEC.H265:
      for (const nal of annexBNals(bytes)) {
        const t = h265NalType(bytes, nal.header);
        if (t < 32) {
          return t >= 16 && t <= 23; // IRAP
        }
      }
      return false;
    default:
      return false;
  }
}

/** Reads bits MSB first. */
class BitReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.bit = 0;
  }

  u(n) {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) {
        throw new RangeError('end of data');
      }
      v = v * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }
}

const VP9_CS_RGB = 7;
/** VP9 color_space values -> WebCodecs matrix (0 unknown and 6 reserved: not known). */
const VP9_MATRIX = Object.freeze({ 1: 'smpte170m', 2: 'bt709', 3: 'smpte170m', 4: 'smpte240m', 5: 'bt2020-ncl', 7: 'rgb' });

const BT601 = Object.freeze({ primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false });
const BT709 = Object.freeze({ primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false });

/**
 * The colour space to give the decoder where the bits say more than the browser would guess, or null to let the
 * decoder decide (H.264 and H.265 carry their VUI, which browsers read). VP8 is always BT.601 (RFC 6386); VP9
 * names its matrix and range in every key frame. Where a stream does not tell, SD is taken as BT.601 and HD
 * (720 lines and more) as BT.709, as video players do.
 */
export function colorSpaceOf(codec, keyFrame, height) {
  if (codec === CODEC.VP8) {
    return BT601;
  }
  if (codec !== CODEC.VP9) {
    return null;
  }
  const h = vp9Header(keyFrame);
  const matrix = h && VP9_MATRIX[h.colorSpace];
  if (!matrix) {
    return height >= 720 ? BT709 : BT601;
  }
  const base = matrix === 'bt709' ? BT709 : BT601;
  return { ...base, matrix, fullRange: h.fullRange };
}

/** VP9 uncompressed header, as far as needed: profile, key frame, bit depth (of key frames). */
export function vp9Header(bytes) {
  try {
    const r = new BitReader(bytes);
    if (r.u(2) !== 2) {
      return null; // frame_marker
    }
    const low = r.u(1);
    const high = r.u(1);
    const profile = (high << 1) | low;
    if (profile === 3) {
      r.u(1);
    }
    if (r.u(1) === 1) {
      return { profile, keyFrame: false, showExisting: true };
    }
    const keyFrame = r.u(1) === 0;
    let bitDepth = 8;
    let colorSpace = 0;
    let fullRange = false;
    if (keyFrame) {
      r.u(1); // show_frame
      r.u(1); // error_resilient_mode
      if (r.u(24) !== 0x498342) {
        return null; // sync code
      }
      if (profile >= 2) {
        bitDepth = r.u(1) ? 12 : 10;
      }
      colorSpace = r.u(3);
      fullRange = colorSpace !== VP9_CS_RGB && r.u(1) === 1;
    }
    return keyFrame ? { profile, keyFrame, bitDepth, colorSpace, fullRange } : { profile, keyFrame, bitDepth };
  } catch (e) {
    return null;
  }
}

/** NAL payload without emulation-prevention bytes (00 00 03 -> 00 00), at most {@code max} bytes. */
export function unescapeRbsp(bytes, from, max) {
  const out = [];
  let zeros = 0;
  for (let i = from; i < bytes.length && out.length < max; i++) {
    const b = bytes[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out.push(b);
  }
  return Uint8Array.from(out);
}

const hex2 = (v) => v.toString(16).toUpperCase().padStart(2, '0');

/**
 * The codec string WebCodecs wants for a stream whose key frame is {@code bytes} (RFC 6381 style for
 * H.264/H.265, the VP9 codecs parameter string); null if the frame does not tell.
 */
export function codecString(codec, bytes, width = 0, height = 0) {
  switch (codec) {
    case CODEC.VP8:
      return 'vp8';
    case CODEC.VP9: {
      const h = vp9Header(bytes);
      if (!h) {
        return null;
      }
      const pixels = width * height;
      const level = pixels <= 2228224 ? '41' : pixels <= 8912896 ? '51' : '61';
      return `vp09.0${h.profile}.${level}.${String(h.bitDepth).padStart(2, '0')}`;
    }
    case CODEC.H264:
      for (const nal of annexBNals(bytes)) {
        if (h264NalType(bytes, nal.header) === 7 && nal.header + 3 < bytes.length) {
          const p = bytes.subarray(nal.header + 1, nal.header + 4);
          return `avc1.${hex2(p[0])}${hex2(p[1])}${hex2(p[2])}`;
        }
      }
      return null;
    case CODEC.H265:
      for (const nal of annexBNals(bytes)) {
        if (h265NalType(bytes, nal.header) === 33) {
          return h265CodecString(unescapeRbsp(bytes, nal.header + 2, 16));
        }
      }
      return null;
    default:
      return null;
  }
}

/** hev1.<space><profile>.<compat reversed, hex>.<tier><level>[.<constraint bytes>] from an SPS payload. */
function h265CodecString(sps) {
  if (sps.length < 14) {
    return null;
  }
  // sps[0]: vps id(4) max_sub_layers_minus1(3) temporal_id_nesting(1); then profile_tier_level
  const ptl = sps[1];
  const space = ptl >> 6;
  const tier = (ptl >> 5) & 1;
  const profile = ptl & 0x1f;
  let compat = 0;
  for (let i = 0; i < 4; i++) {
    compat = compat * 256 + sps[2 + i];
  }
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = reversed * 2 + (Math.floor(compat / 2 ** i) & 1);
  }
  const constraints = Array.from(sps.subarray(6, 12));
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) {
    constraints.pop();
  }
  const level = sps[12];
  const spacePrefix = ['', 'A', 'B', 'C'][space];
  let s = `hev1.${spacePrefix}${profile}.${reversed.toString(16).toUpperCase()}.${tier ? 'H' : 'L'}${level}`;
  for (const c of constraints) {
    s += `.${hex2(c)}`;
  }
  return s;
}
