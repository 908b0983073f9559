import test from 'node:test';
import assert from 'node:assert/strict';
import { ReconnectBackoff, BASE_DELAY_MS, MAX_DELAY_MS, STABLE_AFTER_MS } from '../../main/resources/org/spicestream/webclient/site/js/backoff.js';
import { DisplayStats } from '../../main/resources/org/spicestream/webclient/site/js/stats.js';
import { readParameters, webSocketUrl, withoutPassword } from '../../main/resources/org/spicestream/webclient/site/js/url.js';

test('the WebSocket goes to the page directory of its own server', () => {
  const at = (protocol, host, pathname) => webSocketUrl({ protocol, host, pathname });
  assert.equal(at('http:', '127.0.0.1:5900', '/'), 'ws://127.0.0.1:5900/');
  assert.equal(at('http:', '127.0.0.1:5900', '/index.html'), 'ws://127.0.0.1:5900/');
  assert.equal(at('https:', 'vm.example.org', '/vms/vm1/'), 'wss://vm.example.org/vms/vm1');
  assert.equal(at('https:', 'h:5901', '/vms/vm1/index.html'), 'wss://h:5901/vms/vm1');
});

test('the password is read from the query and taken out of it', () => {
  assert.deepEqual(readParameters('?password=a%26b&overlay=1'), { password: 'a&b', overlay: true, jpegDecoder: null });
  assert.equal(readParameters('').password, null);
  assert.equal(withoutPassword('?password=x&overlay=1'), '?overlay=1');
  assert.equal(withoutPassword('?password=x'), '');
});

test('reconnect delays double up to the maximum, with jitter, and start again after a stable connection', () => {
  const b = new ReconnectBackoff(() => 0.5);
  const delays = [...Array(8)].map(() => b.next());
  assert.deepEqual(delays.slice(0, 4), [BASE_DELAY_MS, 2 * BASE_DELAY_MS, 4 * BASE_DELAY_MS, 8 * BASE_DELAY_MS]);
  assert.equal(delays[7], MAX_DELAY_MS);
  b.connectionEnded(STABLE_AFTER_MS - 1);
  assert.equal(b.next(), MAX_DELAY_MS);
  b.connectionEnded(STABLE_AFTER_MS);
  assert.equal(b.next(), BASE_DELAY_MS);
  const jittery = new ReconnectBackoff(() => 0);
  assert.equal(jittery.next(), BASE_DELAY_MS * 0.8);
});

test('the overlay figures: frames per second, decode time, estimated glass-to-glass, drops', () => {
  const s = new DisplayStats();
  s.setStream('H.264', 1280, 720);
  // frames 33 ms apart; the server stamps them 1000 ms before our clock; the fastest arrives 2 ms after its stamp
  for (let i = 0; i < 30; i++) {
    const at = 5000 + 33 * i;
    const mm = at - 1000 - (i % 3 === 0 ? 2 : 6);
    s.frameArrived(10000, mm, at);
    s.frameDrawn({ mmTime: mm, submittedAt: at, decodedAt: at + 3, drawnAt: at + 4 });
  }
  s.frameDropped('waiting for a key frame');
  const sum = s.summary(5000 + 33 * 29);
  assert.equal(sum.fps, 30);
  assert.equal(sum.decodeMs, 3);
  assert.equal(sum.g2gMs, 8); // 4 ms to draw plus 4 ms slower than the fastest frame
  assert.equal(sum.drops, 1);
  assert.equal(sum.codec, 'H.264');
  assert.equal(sum.size, '1280×720');
  assert.equal(sum.kbps, 2400);
});
