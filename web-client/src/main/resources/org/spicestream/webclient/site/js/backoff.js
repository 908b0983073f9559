// Reconnect delays: doubling from BASE to MAX with ±20 % jitter (so that many viewers of a restarted
// server do not come back in step); back to BASE after a connection that stayed up long enough.

export const BASE_DELAY_MS = 1000;
export const MAX_DELAY_MS = 30000;
export const JITTER = 0.2;
/** A connection up at least this long counts as working: the next failure starts from BASE again. */
export const STABLE_AFTER_MS = 10000;

export class ReconnectBackoff {
  constructor(random = Math.random) {
    this.random = random;
    this.attempt = 0;
  }

  /** The delay before the next attempt. */
  next() {
    const raw = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    return Math.round(raw * (1 - JITTER + 2 * JITTER * this.random()));
  }

  /** A connection ended after {@code upMs}: a stable one resets the doubling. */
  connectionEnded(upMs) {
    if (upMs >= STABLE_AFTER_MS) {
      this.attempt = 0;
    }
  }

  reset() {
    this.attempt = 0;
  }
}
