import test from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue, MessageReader, ProtocolError, Reader, Writer, capsToWords, encodeMessage, hasCap } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { concat, hex, splits, vector } from './helpers.js';

test('Writer and Reader agree on every field, little endian', () => {
  const bytes = new Writer(1).u8(0xab).u16(0x1234).u32(0xdeadbeef).i32(-5).u64(2 ** 40 + 7).toBytes();
  assert.equal(hex(bytes), 'ab3412efbeaddefbffffff07000000000100' + '00');
  const r = new Reader(bytes);
  assert.equal(r.u8(), 0xab);
  assert.equal(r.u16(), 0x1234);
  assert.equal(r.u32(), 0xdeadbeef);
  assert.equal(r.i32(), -5);
  assert.equal(r.u64(), 2 ** 40 + 7);
  assert.equal(r.remaining, 0);
  assert.throws(() => r.u8(), ProtocolError);
});

test('a Rect is read top, left, bottom, right', () => {
  const r = new Reader(new Writer().i32(10).i32(20).i32(110).i32(220).toBytes()).rect();
  assert.deepEqual(r, { top: 10, left: 20, bottom: 110, right: 220, width: 200, height: 100 });
});

test('messages come out whole however the bytes are cut (mini header)', () => {
  const stream = concat(vector('s2c_set_ack'), vector('s2c_ping'), vector('s2c_main_init'), vector('s2c_mark'));
  for (const [how, chunks] of Object.entries(splits(stream))) {
    const q = new ByteQueue();
    const reader = new MessageReader(q, true);
    const got = [];
    for (const c of chunks) {
      q.push(c);
      let m;
      while ((m = reader.next()) !== null) {
        got.push([m.type, hex(m.body)]);
      }
    }
    assert.deepEqual(got, [
      [3, '0100000014000000'],
      [4, '010000000807060504030201'],
      [103, hex(vector('s2c_main_init').subarray(6))],
      [102, ''],
    ], how);
  }
});

test('the full header is read when the server has no mini header', () => {
  const q = new ByteQueue();
  const reader = new MessageReader(q, false);
  q.push(vector('s2c_full_set_ack'));
  const m = reader.next();
  assert.equal(m.type, 3);
  assert.equal(hex(m.body), '0100000014000000');
  assert.equal(reader.next(), null);
});

test('a body inside one WebSocket message is a view, not a copy', () => {
  const q = new ByteQueue();
  const chunk = vector('s2c_stream_data');
  q.push(chunk);
  const m = new MessageReader(q, true).next();
  assert.equal(m.body.buffer, chunk.buffer);
});

test('a message above the size bound is a protocol error', () => {
  const q = new ByteQueue();
  q.push(encodeMessage(123, new Uint8Array(0), true).map((b, i) => (i === 5 ? 0x7f : b)));
  assert.throws(() => new MessageReader(q, true, 1024).next(), ProtocolError);
});

test('client messages are encoded as the vectors', () => {
  assert.equal(hex(encodeMessage(1, new Writer().u32(1).toBytes(), true)), hex(vector('c2s_ack_sync')));
  assert.equal(hex(encodeMessage(2, new Uint8Array(0), true)), hex(vector('c2s_ack')));
  assert.equal(hex(encodeMessage(104, new Uint8Array(0), true)), hex(vector('c2s_attach_channels')));
});

test('capability numbers become words and back', () => {
  assert.deepEqual(capsToWords([0, 1, 3]), [0x0b]);
  assert.deepEqual(capsToWords([0, 4, 8, 9, 10, 33]), [0x711, 0x2]);
  assert.ok(hasCap([0x711, 0x2], 33));
  assert.ok(!hasCap([0x711], 33));
  assert.ok(!hasCap([0x711], 5));
});
