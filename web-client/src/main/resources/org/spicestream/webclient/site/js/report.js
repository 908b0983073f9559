// STREAM_REPORT as spice-gtk sends it (channel-display.c): a window of frames measured at arrival
// against the session's multimedia clock, sent when the window is full, older than the timeout, or after
// three late frames in a row; plus the "invalid stream" report for a stream the client cannot show.

import { Writer } from './wire.js';

/** A report goes out at once after this many consecutive late (or dropped) frames. */
export const DROP_SEQUENCE_LIMIT = 3;
/** audio_delay when there is no audio playback. */
export const NO_AUDIO = 0xffffffff;
export const STREAM_REPORT_SIZE = 32;

export class StreamReporter {
  /** {uniqueId, maxWindow, timeoutMs} from STREAM_ACTIVATE_REPORT. */
  constructor(streamId, { uniqueId, maxWindow, timeoutMs }) {
    this.streamId = streamId;
    this.uniqueId = uniqueId;
    this.maxWindow = Math.max(1, maxWindow);
    this.timeoutMs = timeoutMs;
    this.clear();
  }

  clear() {
    this.numFrames = 0;
    this.numDrops = 0;
    this.dropSeq = 0;
    this.startTime = 0;
    this.startFrameTime = 0;
  }

  /**
   * One frame arrived: {@code frameTime} its mm-time, {@code margin} frameTime minus the client clock (ms,
   * negative = late), {@code dropped} whether the client will not show it. Returns a report body to send, or null.
   */
  onFrame(frameTime, margin, nowMs, dropped = false) {
    if (this.numFrames === 0) {
      this.startFrameTime = frameTime;
      this.startTime = nowMs;
    }
    this.numFrames++;
    if (margin < 0 || dropped) {
      this.numDrops++;
      this.dropSeq++;
    } else {
      this.dropSeq = 0;
    }
    if (this.numFrames >= this.maxWindow || nowMs - this.startTime >= this.timeoutMs || this.dropSeq >= DROP_SEQUENCE_LIMIT) {
      const body = encodeStreamReport({
        streamId: this.streamId,
        uniqueId: this.uniqueId,
        startFrameTime: this.startFrameTime,
        endFrameTime: frameTime,
        numFrames: this.numFrames,
        numDrops: this.numDrops,
        lastFrameDelay: margin,
        audioDelay: NO_AUDIO,
      });
      this.clear();
      return body;
    }
    return null;
  }
}

export function encodeStreamReport(r) {
  return new Writer(STREAM_REPORT_SIZE)
    .u32(r.streamId)
    .u32(r.uniqueId)
    .u32(r.startFrameTime)
    .u32(r.endFrameTime)
    .u32(r.numFrames)
    .u32(r.numDrops)
    .i32(Math.max(-0x80000000, Math.min(0x7fffffff, Math.round(r.lastFrameDelay))))
    .u32(r.audioDelay)
    .toBytes();
}

/** "This stream does not exist here or cannot be decoded": num_frames 0, num_drops 0xffffffff. */
export function invalidStreamReport(streamId) {
  return encodeStreamReport({
    streamId,
    uniqueId: 0,
    startFrameTime: 0,
    endFrameTime: 0,
    numFrames: 0,
    numDrops: 0xffffffff,
    lastFrameDelay: 0,
    audioDelay: 0,
  });
}
