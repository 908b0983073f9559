import test from 'node:test';
import assert from 'node:assert/strict';
import { StreamReporter, invalidStreamReport } from '../../main/resources/org/spicestream/webclient/site/js/report.js';
import { encodeMessage } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { hex, vector } from './helpers.js';

const params = { uniqueId: 1, maxWindow: 5, timeoutMs: 1000 };

test('a full window of 5 frames gives the report spice-gtk would send', () => {
  const r = new StreamReporter(0, params);
  const margins = [400, -5, 300, 320, 350];
  const bodies = margins.map((m, i) => r.onFrame(1000 + 40 * i, m, 10 * i));
  assert.deepEqual(bodies.slice(0, 4), [null, null, null, null]);
  assert.equal(hex(encodeMessage(102, bodies[4], true)), hex(vector('c2s_stream_report')));
});

test('three late frames in a row report at once; the window starts again', () => {
  const r = new StreamReporter(2, { uniqueId: 9, maxWindow: 100, timeoutMs: 100000 });
  assert.equal(r.onFrame(1, 10, 0), null);
  assert.equal(r.onFrame(2, -1, 1), null);
  assert.equal(r.onFrame(3, -1, 2), null);
  const body = r.onFrame(4, -7, 3);
  const v = new DataView(body.buffer);
  assert.deepEqual([v.getUint32(0, true), v.getUint32(4, true), v.getUint32(16, true), v.getUint32(20, true), v.getInt32(24, true)], [2, 9, 4, 3, -7]);
  assert.equal(r.numFrames, 0);
});

test('a window older than the timeout is reported with the frames it has', () => {
  const r = new StreamReporter(0, params);
  assert.equal(r.onFrame(100, 5, 0), null);
  const body = r.onFrame(140, 5, 1000);
  assert.equal(new DataView(body.buffer).getUint32(16, true), 2);
});

test('frames the client drops count as drops too', () => {
  const r = new StreamReporter(0, { uniqueId: 1, maxWindow: 2, timeoutMs: 1000 });
  r.onFrame(0, 50, 0, true);
  const body = r.onFrame(40, 50, 40, false);
  assert.equal(new DataView(body.buffer).getUint32(20, true), 1);
});

test('the invalid-stream report is the vector', () => {
  assert.equal(hex(encodeMessage(102, invalidStreamReport(3), true)), hex(vector('c2s_stream_report_invalid_stream')));
});
