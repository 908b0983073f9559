import test from 'node:test';
import assert from 'node:assert/strict';
import { SpiceChannel } from '../../main/resources/org/spicestream/webclient/site/js/channel.js';
import { LinkError } from '../../main/resources/org/spicestream/webclient/site/js/link.js';
import { encodeMessage, Writer } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { FakeWebSocket, concat, hex, splits, subtle, until, vector } from './helpers.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function linked(chunking, password = 's3cret') {
  const received = [];
  const ch = new SpiceChannel({ url: 'ws://x/', type: 2, id: 0, connectionId: 0x12345678, password, channelCaps: [4], log: quiet, subtle, WebSocketImpl: FakeWebSocket });
  ch.handleMessage = (type, r, body) => received.push([type, hex(body)]);
  const opened = ch.open();
  const ws = FakeWebSocket.last;
  await until(() => ws.sent.length === 1, 'the link message');
  assert.equal(ws.protocols[0], 'binary');
  const link = ws.takeSent();
  assert.equal(hex(link.subarray(16, 22)), '785634120200'); // connection id, type, id
  ws.deliver(...chunking(vector('s2c_link_reply_display')));
  await until(() => ws.sent.length === 1, 'the ticket');
  const auth = ws.takeSent();
  assert.equal(auth.length, 132);
  const priv = await subtle.importKey('pkcs8', vector('example_rsa_pkcs8_private_key'), { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['decrypt']);
  const plain = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, priv, auth.subarray(4)));
  assert.equal(new TextDecoder().decode(plain), `${password}\0`);
  return { ch, ws, opened, received };
}

for (const how of ['whole', 'single', 'uneven']) {
  test(`link, SET_ACK, PING and the ACK window with server bytes cut ${how}`, async () => {
    const cut = (b) => splits(b)[how];
    const { ch, ws, opened, received } = await linked(cut);
    // result, SET_ACK and PING may come in the same WebSocket message as each other
    ws.deliver(...cut(concat(vector('s2c_link_result_ok'), vector('s2c_set_ack'), vector('s2c_ping'))));
    assert.equal(await opened, ch);
    assert.equal(hex(ws.takeSent()), hex(concat(vector('c2s_ack_sync'), vector('c2s_pong'))));
    // the PING was message 1 of the window of 20: 19 more make the first ACK
    const mark = encodeMessage(102, new Uint8Array(0), true);
    for (let i = 0; i < 18; i++) {
      ws.deliver(mark);
    }
    assert.equal(ws.sent.length, 0);
    ws.deliver(mark);
    assert.equal(hex(ws.takeSent()), hex(vector('c2s_ack')));
    assert.equal(received.length, 19);
    assert.deepEqual(received[0], [102, '']);
  });
}

test('a refused ticket rejects the link with its code', async () => {
  const { ws, opened } = await linked((b) => [b], 'wrong');
  ws.deliver(vector('s2c_link_result_permission_denied'));
  await assert.rejects(opened, (e) => e instanceof LinkError && e.code === 7 && /wrong password/.test(e.message));
});

test('a link error before the reply rejects the link', async () => {
  const ch = new SpiceChannel({ url: 'ws://x/', type: 1, id: 0, log: quiet, subtle, WebSocketImpl: FakeWebSocket });
  const opened = ch.open();
  const ws = FakeWebSocket.last;
  await until(() => ws.sent.length === 1, 'the link message');
  ws.deliver(vector('s2c_link_error_version_mismatch'));
  await assert.rejects(opened, (e) => e instanceof LinkError && e.code === 4);
  assert.equal(ws.readyState, 3);
});

test('NOTIFY and DISCONNECTING are understood, the close says why', async () => {
  const { ch, ws, opened } = await linked((b) => [b]);
  ws.deliver(vector('s2c_link_result_ok'));
  await opened;
  const notes = [];
  ch.onNotify = (severity, text) => notes.push(`${severity}: ${text}`);
  ws.deliver(vector('s2c_notify_warn'));
  assert.deepEqual(notes, ['warning: hi']);
  ws.deliver(encodeMessage(6, new Writer().u64(0).u32(0).toBytes(), true));
  ws.close();
  const info = await ch.closed;
  assert.equal(info.wasReady, true);
  assert.equal(info.serverShutdown, true);
  assert.equal(info.replaced, false);
});

test('DISCONNECTING with another reason means the session was taken over', async () => {
  const { ch, ws, opened } = await linked((b) => [b]);
  ws.deliver(vector('s2c_link_result_ok'));
  await opened;
  ws.deliver(encodeMessage(6, new Writer().u64(0).u32(1).toBytes(), true));
  ws.close();
  const info = await ch.closed;
  assert.deepEqual([info.serverShutdown, info.replaced, info.reason], [false, true, 'another viewer took over this session']);
});

test('a plain close of a linked channel is neither', async () => {
  const { ch, ws, opened } = await linked((b) => [b]);
  ws.deliver(vector('s2c_link_result_ok'));
  await opened;
  ws.close();
  const info = await ch.closed;
  assert.deepEqual([info.serverShutdown, info.replaced], [false, false]);
});
