import test from 'node:test';
import assert from 'node:assert/strict';
import { InputsChannel } from '../../main/resources/org/spicestream/webclient/site/js/inputs.js';
import { WheelAccumulator, isBrowserShortcut, lockModifiers } from '../../main/resources/org/spicestream/webclient/site/js/input.js';
import { SCANCODES, keyMessageCode, scancodeOf } from '../../main/resources/org/spicestream/webclient/site/js/scancodes.js';
import { Reader, encodeMessage } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { hex, vector } from './helpers.js';

test('KeyboardEvent.code maps to set-1 scan codes, extended keys packed with 0xE0 first', () => {
  assert.equal(scancodeOf('KeyA'), 0x1e);
  assert.equal(keyMessageCode(scancodeOf('KeyA'), false), 0x1e);
  assert.equal(keyMessageCode(scancodeOf('KeyA'), true), 0x9e);
  assert.equal(keyMessageCode(scancodeOf('ControlRight'), false), 0x1de0);
  assert.equal(keyMessageCode(scancodeOf('ControlRight'), true), 0x9de0);
  assert.equal(scancodeOf('Fn'), undefined);
  const values = Object.values(SCANCODES);
  assert.equal(new Set(values).size, values.length, 'no two keys share a scan code');
});

test('browser tab and window shortcuts stay with the browser, the rest goes to the guest', () => {
  const k = (code, mods = {}) => ({ code, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });
  for (const e of [k('KeyW', { ctrlKey: true }), k('KeyT', { ctrlKey: true }), k('Tab', { ctrlKey: true }), k('F11'),
    k('KeyI', { ctrlKey: true, shiftKey: true }), k('KeyN', { metaKey: true })]) {
    assert.ok(isBrowserShortcut(e), e.code);
  }
  for (const e of [k('KeyR', { ctrlKey: true }), k('KeyL', { ctrlKey: true }), k('KeyC', { ctrlKey: true }), k('F5'),
    k('F12'), k('Tab'), k('Delete', { ctrlKey: true, altKey: true }), k('KeyW', { ctrlKey: true, altKey: true })]) {
    assert.ok(!isBrowserShortcut(e), e.code);
  }
});

test('lock keys become SPICE modifier flags', () => {
  const state = { CapsLock: true, NumLock: true, ScrollLock: false };
  assert.equal(lockModifiers({ getModifierState: (k) => state[k] }), 0x6);
});

test('wheel deltas become notches, small touchpad deltas add up', () => {
  const w = new WheelAccumulator();
  assert.equal(w.add(120, 0), 1);
  assert.equal(w.add(-100, 0), -1);
  assert.equal(w.add(-3, 1), -1);
  assert.deepEqual([10, 10, 10, 10].map((d) => w.add(d, 0)), [0, 0, 0, 0]);
  assert.equal([...Array(6)].reduce((n) => n + w.add(10, 0), 0), 1);
});

function inputs() {
  const sent = [];
  const ch = new InputsChannel({ onInputsClosed() {} }, { url: 'ws://x/', id: 0 });
  ch.send = (type, body) => {
    sent.push(encodeMessage(type, body, true));
    return true;
  };
  return { ch, sent };
}

test('positions and buttons are encoded as the vectors', () => {
  const { ch, sent } = inputs();
  ch.buttons = 1;
  ch.position(100, 200, 0);
  assert.equal(hex(sent[0]), hex(vector('c2s_mouse_position')));
  ch.keyDown(0x1e);
  assert.equal(hex(sent[1]), '6500040000001e000000');
});

test('motion stops at 8 unacknowledged, keeps only the latest, and resumes on MOUSE_MOTION_ACK', () => {
  const { ch, sent } = inputs();
  for (let i = 0; i < 20; i++) {
    ch.position(i, i, 0);
  }
  assert.equal(sent.length, 8);
  ch.handleMessage(111, new Reader(new Uint8Array(0)));
  assert.equal(sent.length, 9);
  assert.equal(new DataView(sent[8].buffer).getUint32(6, true), 19);
  // relative motion adds up while waiting
  for (let i = 0; i < 10; i++) {
    ch.motion(2, -1);
  }
  assert.equal(sent.length, 12);
  ch.handleMessage(111, new Reader(new Uint8Array(0)));
  const last = new DataView(sent[sent.length - 1].buffer);
  assert.deepEqual([last.getInt32(6, true), last.getInt32(10, true)], [14, -7]);
});

test('a button press goes after the motion that leads to it, even with motion blocked', () => {
  const { ch, sent } = inputs();
  for (let i = 0; i < 9; i++) {
    ch.position(i, 0, 0);
  }
  ch.press(1);
  const types = sent.map((m) => new DataView(m.buffer).getUint16(0, true));
  assert.deepEqual(types.slice(-2), [112, 113]);
  assert.equal(new DataView(sent[sent.length - 2].buffer).getUint32(6, true), 8);
  ch.release(1);
  assert.equal(hex(sent[sent.length - 1]), '72000300000001' + '0000');
});
