// Decoders of one stream: WebCodecs VideoDecoder for H.264 / VP8 / VP9 / H.265 (configured from the
// first key frame), the browser's image decoder for MJPEG. Every decoded picture goes to onFrame at
// once; what cannot be shown is reported to onDrop.

import { CODEC } from './constants.js';
import { codecString, colorSpaceOf, isKeyFrame } from './codecs.js';

/**
 * Frames the video decoder may hold before the client skips to the next key frame: far more than a
 * decoder needs (1–2), so that only a decoder that cannot keep up is reset.
 */
export const MAX_DECODE_QUEUE = 16;
/** JPEG pictures decoded at once; a newer frame replaces one still waiting. */
export const MAX_JPEG_IN_FLIGHT = 2;
/** Frames sent to the decoder and not returned are forgotten (counted as drops) after this many newer ones. */
export const MAX_PENDING_FRAMES = 64;

/**
 * @param {number} codec CODEC value
 * @param {object} cb onFrame(image, meta) (the callee closes the image), onDrop(meta, why), onError(text, fatal)
 */
export function createDecoder(codec, width, height, cb, options = {}) {
  if (codec === CODEC.MJPEG) {
    return new JpegDecoder(cb, options.jpegDecoder);
  }
  return new VideoStreamDecoder(codec, width, height, cb);
}

/** A WebCodecs VideoDecoder that (re)starts at key frames. */
export class VideoStreamDecoder {
  constructor(codec, width, height, cb, VideoDecoderImpl = globalThis.VideoDecoder, ChunkImpl = globalThis.EncodedVideoChunk) {
    this.codec = codec;
    this.width = width;
    this.height = height;
    this.cb = cb;
    this.VideoDecoderImpl = VideoDecoderImpl;
    this.ChunkImpl = ChunkImpl;
    this.decoder = null;
    this.needKey = true;
    this.seq = 0;
    this.pending = new Map();
    this.closed = false;
    this.config = null;
  }

  /** Queues one frame; returns false when it is dropped at once (no key frame yet). */
  decode(bytes, meta) {
    if (this.closed) {
      return false;
    }
    const key = isKeyFrame(this.codec, bytes);
    meta.key = key;
    if (!this.VideoDecoderImpl) {
      this.cb.onError('this browser has no VideoDecoder (WebCodecs)', true);
      return false;
    }
    if (key && this.decoder && this.decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
      // the decoder is far behind: start again from this key frame rather than show old pictures late
      this.reset(`decoder ${this.decoder.decodeQueueSize} frames behind`);
    }
    if (this.needKey || !this.decoder || this.decoder.state === 'closed') {
      if (!key) {
        this.cb.onDrop(meta, 'waiting for a key frame');
        return false;
      }
      if (!this.start(bytes)) {
        return false;
      }
    }
    const timestamp = this.seq++;
    meta.submittedAt = performance.now();
    this.pending.set(timestamp, meta);
    if (this.pending.size > MAX_PENDING_FRAMES) {
      const oldest = this.pending.keys().next().value;
      this.cb.onDrop(this.pending.get(oldest), 'never returned by the decoder');
      this.pending.delete(oldest);
    }
    try {
      this.decoder.decode(new this.ChunkImpl({ type: key ? 'key' : 'delta', timestamp, data: bytes }));
    } catch (e) {
      this.failed(e);
      return false;
    }
    return true;
  }

  start(keyFrame) {
    const codec = codecString(this.codec, keyFrame, this.width, this.height);
    if (!codec) {
      this.cb.onError(`cannot tell the codec parameters from the key frame`, false);
      return false;
    }
    if (!this.decoder || this.decoder.state === 'closed') {
      this.decoder = new this.VideoDecoderImpl({
        output: (frame) => this.output(frame),
        error: (e) => this.failed(e),
      });
    }
    this.config = {
      codec,
      optimizeForLatency: true,
      hardwareAcceleration: 'no-preference',
    };
    if (this.width > 0 && this.height > 0) {
      this.config.codedWidth = this.width;
      this.config.codedHeight = this.height;
    }
    const colorSpace = colorSpaceOf(this.codec, keyFrame, this.height);
    if (colorSpace) {
      this.config.colorSpace = colorSpace;
    }
    try {
      this.decoder.configure(this.config);
    } catch (e) {
      this.cb.onError(`${codec}: ${e.message}`, true);
      return false;
    }
    this.needKey = false;
    return true;
  }

  output(frame) {
    const meta = this.pending.get(frame.timestamp);
    if (!meta) {
      frame.close();
      return;
    }
    // frames the decoder skipped before this one will not come any more
    for (const [ts, older] of this.pending) {
      if (ts >= frame.timestamp) {
        break;
      }
      this.cb.onDrop(older, 'skipped by the decoder');
      this.pending.delete(ts);
    }
    this.pending.delete(frame.timestamp);
    if (this.closed) {
      frame.close();
      return;
    }
    meta.decodedAt = performance.now();
    this.cb.onFrame(frame, meta);
  }

  failed(e) {
    if (this.closed) {
      return;
    }
    const text = `${this.config ? this.config.codec : 'decoder'}: ${e && e.message ? e.message : e}`;
    const unsupported = e && e.name === 'NotSupportedError';
    this.dropPending('decoder error');
    this.needKey = true;
    try {
      if (this.decoder && this.decoder.state !== 'closed') {
        this.decoder.close();
      }
    } catch (ignored) {
      // closed meanwhile
    }
    this.decoder = null;
    this.cb.onError(text, unsupported);
  }

  reset(why) {
    this.dropPending(why);
    try {
      this.decoder.reset();
    } catch (e) {
      this.decoder = null;
    }
    this.needKey = true;
  }

  dropPending(why) {
    for (const meta of this.pending.values()) {
      this.cb.onDrop(meta, why);
    }
    this.pending.clear();
  }

  get queued() {
    return this.decoder ? this.decoder.decodeQueueSize : 0;
  }

  close() {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.pending.clear();
    try {
      if (this.decoder && this.decoder.state !== 'closed') {
        this.decoder.close();
      }
    } catch (e) {
      // already closed
    }
  }
}

/**
 * MJPEG: each frame is one JPEG, decoded by the browser off the main thread. At most
 * {@link MAX_JPEG_IN_FLIGHT} decode at once; a frame arriving meanwhile waits, and a newer one replaces it.
 */
export class JpegDecoder {
  constructor(cb, kind) {
    this.cb = cb;
    this.kind = kind || (typeof globalThis.ImageDecoder === 'function' ? 'imagedecoder' : 'bitmap');
    this.inFlight = 0;
    this.waiting = null;
    this.seq = 0;
    this.lastShown = -1;
    this.closed = false;
  }

  decode(bytes, meta) {
    meta.key = true;
    if (this.closed) {
      return false;
    }
    if (this.inFlight >= MAX_JPEG_IN_FLIGHT) {
      if (this.waiting) {
        this.cb.onDrop(this.waiting.meta, 'replaced by a newer frame');
      }
      this.waiting = { bytes, meta };
      return true;
    }
    this.start(bytes, meta);
    return true;
  }

  start(bytes, meta) {
    const seq = this.seq++;
    this.inFlight++;
    meta.submittedAt = performance.now();
    this.decodeImage(bytes).then((image) => {
      this.inFlight--;
      if (this.closed || seq < this.lastShown) {
        image.close();
        if (!this.closed) {
          this.cb.onDrop(meta, 'decoded after a newer frame');
        }
      } else {
        this.lastShown = seq;
        meta.decodedAt = performance.now();
        this.cb.onFrame(image, meta);
      }
      this.next();
    }, (e) => {
      this.inFlight--;
      if (!this.closed) {
        this.cb.onDrop(meta, 'not a JPEG the browser decodes');
        this.cb.onError(`JPEG: ${e && e.message ? e.message : e}`, false);
      }
      this.next();
    });
  }

  next() {
    if (this.waiting && !this.closed && this.inFlight < MAX_JPEG_IN_FLIGHT) {
      const w = this.waiting;
      this.waiting = null;
      this.start(w.bytes, w.meta);
    }
  }

  async decodeImage(bytes) {
    if (this.kind === 'imagedecoder') {
      const decoder = new ImageDecoder({ data: bytes, type: 'image/jpeg' });
      try {
        const result = await decoder.decode();
        return result.image;
      } finally {
        decoder.close();
      }
    }
    return createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
  }

  get queued() {
    return this.inFlight + (this.waiting ? 1 : 0);
  }

  close() {
    this.closed = true;
    this.waiting = null;
  }
}
