import test from 'node:test';
import assert from 'node:assert/strict';
import { LinkError, encodeAuth, encodeLinkMess, encryptTicket, parseLinkHeader, parseLinkReply, ticketPlaintext } from '../../main/resources/org/spicestream/webclient/site/js/link.js';
import { hasCap } from '../../main/resources/org/spicestream/webclient/site/js/wire.js';
import { hex, subtle, vector } from './helpers.js';

test('the link message is byte for byte what spice-html5 sends for the same caps', () => {
  const bytes = encodeLinkMess({ connectionId: 0x12345678, channelType: 2, channelId: 0, commonCaps: [0, 3], channelCaps: [0, 4, 8, 9, 10] });
  assert.equal(hex(bytes), hex(vector('c2s_link_display_html5')));
});

test('the server reply gives the key and both capability sets', () => {
  const v = vector('s2c_link_reply_display');
  const size = parseLinkHeader(v.subarray(0, 16));
  assert.equal(size, v.length - 16);
  const reply = parseLinkReply(v.subarray(16));
  assert.equal(reply.error, 0);
  assert.equal(hex(reply.pubKey), hex(vector('example_rsa_spki_public_key')));
  assert.deepEqual(reply.commonCaps, [0x0b]);
  assert.ok(hasCap(reply.channelCaps, 12));
});

test('a link error arrives as a reply with only the error set', () => {
  const v = vector('s2c_link_error_version_mismatch');
  parseLinkHeader(v.subarray(0, 16));
  assert.deepEqual(parseLinkReply(v.subarray(16)), { error: 4 });
});

test('a reply that is not SPICE is refused', () => {
  const v = vector('s2c_link_reply_display').slice(0, 16);
  v[0] = 0x47;
  assert.throws(() => parseLinkHeader(v), LinkError);
});

test('the ticket is RSA-OAEP(SHA-1) of password + NUL under the reply key', async () => {
  const ticket = await encryptTicket(subtle, vector('example_rsa_spki_public_key'), 's3cret');
  assert.equal(ticket.length, 128);
  const priv = await subtle.importKey('pkcs8', vector('example_rsa_pkcs8_private_key'), { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['decrypt']);
  const plain = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, priv, ticket));
  assert.equal(hex(plain), hex(new TextEncoder().encode('s3cret\0')));
  // and the spec's own ticket decrypts with the same key (the padding is random: never compare ciphertexts)
  const theirs = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, priv, vector('c2s_ticket_s3cret')));
  assert.equal(hex(theirs), hex(plain));
  const auth = encodeAuth(ticket);
  assert.equal(hex(auth.subarray(0, 4)), hex(vector('c2s_auth_mechanism_spice')));
  assert.equal(auth.length, 132);
});

test('passwords SPICE cannot carry are refused before anything is sent', () => {
  assert.equal(hex(ticketPlaintext('')), '00');
  assert.equal(ticketPlaintext('é'.repeat(30)).length, 61);
  assert.throws(() => ticketPlaintext('é'.repeat(31)), LinkError);
  assert.throws(() => ticketPlaintext('a\0b'), LinkError);
});
