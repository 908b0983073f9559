// The display channel (spice-wire §9): primary surface and monitors, solid fills, and video streams
// decoded as they arrive and drawn into the display's canvas as soon as each picture is decoded.

import {
  CHANNEL,
  CODEC,
  CODEC_CAP,
  CODEC_NAME,
  DISPLAY,
  DISPLAYC,
  DISPLAY_CAP,
  STREAM_FLAG_TOP_DOWN,
  SURFACE_FLAG_PRIMARY,
} from './constants.js';
import { SpiceChannel } from './channel.js';
import { createDecoder } from './decoder.js';
import { StreamReporter, invalidStreamReport } from './report.js';
import { ProtocolError, Writer } from './wire.js';

/** Stream ids a server may use (SPICE_MAX_NUM_STREAMS is 64; some room above it). */
export const MAX_STREAM_ID = 255;
/** Heads of MONITORS_CONFIG kept (spice-gtk clamps to 256 as well). */
export const MAX_MONITORS = 256;
/** Largest primary surface accepted (a canvas of that size still fits in browser limits). */
export const MAX_SURFACE_DIMENSION = 16384;
/** The "invalid stream" report is repeated at most this often per stream. */
export const INVALID_REPORT_INTERVAL_MS = 1000;
/** Preference sent with PREFERRED_VIDEO_CODEC_TYPE, best first (cheap to decode, small). */
export const CODEC_PREFERENCE = [CODEC.H264, CODEC.VP9, CODEC.VP8, CODEC.H265, CODEC.MJPEG];

const ROP_OP_PUT = 0x8;
const BRUSH_SOLID = 1;
const CLIP_RECTS = 1;
const MAX_CLIP_RECTS = 1024;

export class DisplayChannel extends SpiceChannel {
  /**
   * @param session the Session (mm clock, frame listeners)
   * @param view the page's view of this display: resize(w, h), context(), setReady(bool), setMonitors(heads),
   *     stats (a DisplayStats)
   */
  constructor(session, view, options) {
    const caps = [
      DISPLAY_CAP.SIZED_STREAM,
      DISPLAY_CAP.MONITORS_CONFIG,
      DISPLAY_CAP.STREAM_REPORT,
      DISPLAY_CAP.MULTI_CODEC,
      DISPLAY_CAP.CODEC_MJPEG,
    ];
    for (const codec of session.codecs) {
      if (codec !== CODEC.MJPEG) {
        caps.push(CODEC_CAP[codec]);
      }
    }
    super({ ...options, type: CHANNEL.DISPLAY, channelCaps: caps });
    this.session = session;
    this.view = view;
    this.stats = view.stats;
    this.surface = null;
    this.streams = new Map();
    this.lastInvalidReport = new Map();
  }

  onReady() {
    // pixmap cache id 1 of 10 MiB, no GLZ dictionary (as spice-html5): nothing is cached by a stream channel
    this.send(DISPLAYC.INIT, new Writer(14).u8(1).u64(10 * 1024 * 1024).u8(0).i32(0).toBytes());
    if (this.remoteHasChannelCap(DISPLAY_CAP.PREF_VIDEO_CODEC_TYPE)) {
      const order = CODEC_PREFERENCE.filter((c) => this.session.codecs.has(c));
      const w = new Writer(1 + order.length).u8(order.length);
      order.forEach((c) => w.u8(c));
      this.send(DISPLAYC.PREFERRED_VIDEO_CODEC_TYPE, w.toBytes());
    }
  }

  handleMessage(type, r) {
    switch (type) {
      case DISPLAY.SURFACE_CREATE:
        return this.surfaceCreate(r);
      case DISPLAY.SURFACE_DESTROY: {
        const id = r.u32();
        if (this.surface && this.surface.id === id) {
          this.destroyAllStreams();
          this.surface = null;
          this.view.setReady(false);
        }
        return;
      }
      case DISPLAY.MONITORS_CONFIG:
        return this.monitorsConfig(r);
      case DISPLAY.MARK:
        if (this.surface) {
          this.view.setReady(true);
        }
        return;
      case DISPLAY.RESET:
        this.destroyAllStreams();
        return;
      case DISPLAY.DRAW_FILL:
        return this.drawFill(r);
      case DISPLAY.STREAM_CREATE:
        return this.streamCreate(r);
      case DISPLAY.STREAM_DATA:
      case DISPLAY.STREAM_DATA_SIZED:
        return this.streamData(type, r);
      case DISPLAY.STREAM_DESTROY:
        return this.destroyStream(r.u32());
      case DISPLAY.STREAM_DESTROY_ALL:
        return this.destroyAllStreams();
      case DISPLAY.STREAM_ACTIVATE_REPORT: {
        const id = r.u32();
        const params = { uniqueId: r.u32(), maxWindow: r.u32(), timeoutMs: r.u32() };
        const st = this.streams.get(id);
        if (st) {
          st.reporter = new StreamReporter(id, params);
        }
        return;
      }
      default:
        // palettes, clips and the drawing commands of a QXL display: nothing a stream channel sends
        return;
    }
  }

  surfaceCreate(r) {
    const id = r.u32();
    const width = r.u32();
    const height = r.u32();
    r.u32(); // format: 32 xRGB or 96 ARGB, drawn the same way here
    const flags = r.u32();
    if ((flags & SURFACE_FLAG_PRIMARY) === 0) {
      return; // off-screen surfaces carry nothing a stream needs
    }
    if (width > MAX_SURFACE_DIMENSION || height > MAX_SURFACE_DIMENSION) {
      throw new ProtocolError(`surface of ${width}x${height}`);
    }
    this.destroyAllStreams();
    this.surface = { id, width, height };
    this.view.resize(width, height);
    this.stats.setSurface(width, height);
  }

  monitorsConfig(r) {
    const count = Math.min(r.u16(), MAX_MONITORS);
    r.u16(); // max_allowed
    const heads = [];
    for (let i = 0; i < count; i++) {
      heads.push({ id: r.u32(), surfaceId: r.u32(), width: r.u32(), height: r.u32(), x: r.u32(), y: r.u32(), flags: r.u32() });
    }
    this.view.setMonitors(heads);
  }

  drawFill(r) {
    const surfaceId = r.u32();
    const box = r.rect();
    const clip = this.readClip(r);
    const brushType = r.u8();
    if (brushType !== BRUSH_SOLID) {
      return;
    }
    const color = r.u32() & 0xffffff;
    const rop = r.u16();
    if (!this.surface || surfaceId !== this.surface.id || rop !== ROP_OP_PUT) {
      return;
    }
    const ctx = this.view.context();
    ctx.fillStyle = `#${color.toString(16).padStart(6, '0')}`;
    for (const rect of clip || [box]) {
      const left = Math.max(box.left, rect.left);
      const top = Math.max(box.top, rect.top);
      const right = Math.min(box.right, rect.right);
      const bottom = Math.min(box.bottom, rect.bottom);
      if (right > left && bottom > top) {
        ctx.fillRect(left, top, right - left, bottom - top);
      }
    }
  }

  readClip(r) {
    const type = r.u8();
    if (type !== CLIP_RECTS) {
      return null;
    }
    const n = r.u32();
    if (n > MAX_CLIP_RECTS) {
      throw new ProtocolError(`clip of ${n} rectangles`);
    }
    const rects = [];
    for (let i = 0; i < n; i++) {
      rects.push(r.rect());
    }
    return rects;
  }

  streamCreate(r) {
    const surfaceId = r.u32();
    const id = r.u32();
    const flags = r.u8();
    const codec = r.u8();
    r.u64(); // stamp
    const width = r.u32();
    const height = r.u32();
    r.u32(); // src_width
    r.u32(); // src_height
    const dest = r.rect();
    this.readClip(r);
    if (id > MAX_STREAM_ID) {
      throw new ProtocolError(`stream id ${id}`);
    }
    this.destroyStream(id);
    const st = {
      id,
      surfaceId,
      codec,
      width,
      height,
      dest,
      topDown: (flags & STREAM_FLAG_TOP_DOWN) !== 0,
      reporter: null,
      failed: false,
      decoder: null,
    };
    this.streams.set(id, st);
    this.lastInvalidReport.delete(id);
    this.stats.setStream(CODEC_NAME[codec] || `codec ${codec}`, width, height);
    if (!this.session.codecs.has(codec)) {
      this.streamFailed(st, `${CODEC_NAME[codec] || `codec ${codec}`} is not decoded by this browser`);
      return;
    }
    st.decoder = createDecoder(codec, width, height, {
      onFrame: (image, meta) => this.draw(st, image, meta),
      onDrop: (meta, why) => this.stats.frameDropped(why),
      onError: (text, fatal) => {
        this.session.logDisplay(this.id, `stream ${id}: ${text}`);
        if (fatal) {
          this.streamFailed(st, text);
        }
      },
    }, this.session.decoderOptions);
  }

  streamData(type, r) {
    const id = r.u32();
    const mmTime = r.u32();
    let dest = null;
    if (type === DISPLAY.STREAM_DATA_SIZED) {
      r.u32(); // width
      r.u32(); // height
      dest = r.rect();
    }
    const size = r.u32();
    const data = r.bytesView(size);
    const arrivedAt = performance.now();
    const st = this.streams.get(id);
    if (!st || st.failed) {
      this.reportInvalid(id, arrivedAt);
      return;
    }
    const meta = { streamId: id, mmTime, dest: dest || st.dest, arrivedAt, bytes: size, key: false };
    this.stats.frameArrived(size, mmTime, arrivedAt);
    const accepted = st.decoder.decode(data, meta);
    if (st.reporter) {
      const margin = (mmTime - this.session.mmTime()) | 0;
      const report = st.reporter.onFrame(mmTime, margin, arrivedAt, !accepted);
      if (report) {
        this.send(DISPLAYC.STREAM_REPORT, report);
      }
    }
  }

  /**
   * A decoded picture: drawn at once, unless one was already drawn since the screen last refreshed; then it waits
   * for the next refresh (requestAnimationFrame, just before the browser paints) and a newer one replaces it, since
   * the screen would never have shown it. That keeps a decoder that delivers in bursts from costing conversions
   * nobody sees, without delaying any picture the screen shows.
   */
  draw(st, image, meta) {
    if (this.drawnThisRefresh && typeof requestAnimationFrame === 'function') {
      if (this.pendingDraw) {
        this.pendingDraw.image.close();
        this.stats.frameDropped('replaced before the screen refreshed');
      }
      this.pendingDraw = { st, image, meta };
      return;
    }
    this.drawNow(st, image, meta);
  }

  drawNow(st, image, meta) {
    const ctx = this.view.context();
    const d = meta.dest;
    if (this.streams.get(st.id) !== st || !this.surface) {
      image.close();
      return;
    }
    if (typeof requestAnimationFrame === 'function' && !this.drawnThisRefresh) {
      this.drawnThisRefresh = true;
      requestAnimationFrame(() => {
        this.drawnThisRefresh = false;
        const p = this.pendingDraw;
        this.pendingDraw = null;
        if (p) {
          this.drawNow(p.st, p.image, p.meta);
        }
      });
    }
    if (st.topDown) {
      ctx.drawImage(image, d.left, d.top, d.width, d.height);
    } else {
      ctx.save();
      ctx.translate(0, d.top + d.bottom);
      ctx.scale(1, -1);
      ctx.drawImage(image, d.left, d.top, d.width, d.height);
      ctx.restore();
    }
    image.close();
    meta.drawnAt = performance.now();
    this.stats.frameDrawn(meta);
    this.session.emitFrame(this, st, meta);
  }

  streamFailed(st, why) {
    st.failed = true;
    if (st.decoder) {
      st.decoder.close();
    }
    this.view.setMessage(`cannot show the stream: ${why}`);
    this.reportInvalid(st.id, performance.now());
  }

  reportInvalid(id, now) {
    if (!this.remoteHasChannelCap(DISPLAY_CAP.STREAM_REPORT)) {
      return;
    }
    const last = this.lastInvalidReport.get(id);
    if (last !== undefined && now - last < INVALID_REPORT_INTERVAL_MS) {
      return;
    }
    this.lastInvalidReport.set(id, now);
    this.send(DISPLAYC.STREAM_REPORT, invalidStreamReport(id));
  }

  destroyStream(id) {
    const st = this.streams.get(id);
    if (st) {
      st.decoder?.close();
      this.streams.delete(id);
      this.view.setMessage(null);
    }
  }

  destroyAllStreams() {
    for (const id of [...this.streams.keys()]) {
      this.destroyStream(id);
    }
    if (this.pendingDraw) {
      this.pendingDraw.image.close();
      this.pendingDraw = null;
    }
  }

  onClosed(info) {
    this.destroyAllStreams();
    this.session.onDisplayClosed(this, info);
  }
}
