// What the overlay shows per display: frames drawn per second, decode time, drops, bit rate and an
// estimate of glass-to-glass latency from the frames' multimedia time.

/** Frames remembered for the rates and averages. */
export const WINDOW_FRAMES = 240;
/** The transit estimate keeps the fastest frame of the last two periods of this length. */
export const OFFSET_PERIOD_MS = 10000;

/** Running minimum over a sliding window of about one to two periods. */
class SlidingMin {
  constructor(periodMs) {
    this.periodMs = periodMs;
    this.current = Infinity;
    this.previous = Infinity;
    this.periodStart = -Infinity;
  }

  add(value, now) {
    if (now - this.periodStart >= this.periodMs) {
      this.previous = this.current;
      this.current = Infinity;
      this.periodStart = now;
    }
    this.current = Math.min(this.current, value);
  }

  get value() {
    return Math.min(this.current, this.previous);
  }
}

const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);

export class DisplayStats {
  constructor() {
    this.drawn = []; // {at, decodeMs, g2gMs}
    this.arrived = []; // {at, bytes}
    this.framesDrawn = 0;
    this.framesArrived = 0;
    this.drops = 0;
    this.dropReasons = new Map();
    this.transit = new SlidingMin(OFFSET_PERIOD_MS);
    this.codec = null;
    this.streamSize = null;
    this.surfaceSize = null;
  }

  setSurface(width, height) {
    this.surfaceSize = `${width}×${height}`;
  }

  setStream(codecName, width, height) {
    this.codec = codecName;
    this.streamSize = `${width}×${height}`;
  }

  frameArrived(bytes, mmTime, at) {
    this.framesArrived++;
    this.arrived.push({ at, bytes });
    if (this.arrived.length > WINDOW_FRAMES) {
      this.arrived.shift();
    }
    // local clock minus server clock: smallest = the fastest frame's transit (taken as zero)
    this.transit.add(at - mmTime, at);
  }

  frameDrawn(meta) {
    this.framesDrawn++;
    const decodeMs = meta.decodedAt - meta.submittedAt;
    const g2gMs = meta.drawnAt - (meta.mmTime + this.transit.value);
    this.drawn.push({ at: meta.drawnAt, decodeMs, g2gMs });
    if (this.drawn.length > WINDOW_FRAMES) {
      this.drawn.shift();
    }
  }

  frameDropped(why) {
    this.drops++;
    this.dropReasons.set(why, (this.dropReasons.get(why) || 0) + 1);
  }

  /** Figures over the last second (rates) and the last {@link WINDOW_FRAMES} frames (times). */
  summary(now) {
    const recent = this.drawn.filter((f) => now - f.at <= 1000);
    const bytes = this.arrived.filter((f) => now - f.at <= 1000).reduce((s, f) => s + f.bytes, 0);
    const decode = this.drawn.map((f) => f.decodeMs).sort((a, b) => a - b);
    const g2g = this.drawn.map((f) => f.g2gMs).filter(Number.isFinite).sort((a, b) => a - b);
    return {
      codec: this.codec,
      size: this.streamSize || this.surfaceSize,
      fps: recent.length,
      kbps: Math.round((bytes * 8) / 1000),
      decodeMs: percentile(decode, 0.5),
      decodeP95Ms: percentile(decode, 0.95),
      g2gMs: percentile(g2g, 0.5),
      g2gP95Ms: percentile(g2g, 0.95),
      framesDrawn: this.framesDrawn,
      framesArrived: this.framesArrived,
      drops: this.drops,
      dropReasons: Object.fromEntries(this.dropReasons),
    };
  }
}
