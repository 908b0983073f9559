// The link stage (spice-wire §3): SpiceLinkHeader + SpiceLinkMess out, SpiceLinkReply in, then the
// auth mechanism and the RSA-OAEP(SHA-1) ticket, then a u32 link result. WebCrypto does the RSA.

import { LINK_ERR_TEXT } from './constants.js';
import { ProtocolError, Reader, Writer, capsToWords } from './wire.js';

export const SPICE_MAGIC = 0x51444552; // "REDQ"
export const VERSION_MAJOR = 2;
export const VERSION_MINOR = 2;
export const LINK_HEADER_SIZE = 16;
export const LINK_MESS_SIZE = 18;
export const LINK_REPLY_SIZE = 178;
export const PUB_KEY_SIZE = 162;
export const TICKET_SIZE = 128;
/** Longest password SPICE carries (SPICE_MAX_PASSWORD_LENGTH). */
export const MAX_PASSWORD_BYTES = 60;
/** A link reply larger than this is not from a SPICE server we can talk to. */
export const MAX_LINK_REPLY_SIZE = 4096;
export const AUTH_MECHANISM_SPICE = 1;

/** A link that failed with a SPICE link error code (or a client-side reason, code -1). */
export class LinkError extends Error {
  constructor(code, message) {
    super(message || LINK_ERR_TEXT[code] || `link error ${code}`);
    this.name = 'LinkError';
    this.code = code;
  }
}

/** SpiceLinkHeader + SpiceLinkMess + capability words, ready to send. */
export function encodeLinkMess({ connectionId, channelType, channelId, commonCaps, channelCaps }) {
  const common = capsToWords(commonCaps);
  const channel = capsToWords(channelCaps);
  const size = LINK_MESS_SIZE + 4 * (common.length + channel.length);
  const w = new Writer(LINK_HEADER_SIZE + size);
  w.u32(SPICE_MAGIC).u32(VERSION_MAJOR).u32(VERSION_MINOR).u32(size);
  w.u32(connectionId).u8(channelType).u8(channelId).u32(common.length).u32(channel.length).u32(LINK_MESS_SIZE);
  common.forEach((x) => w.u32(x));
  channel.forEach((x) => w.u32(x));
  return w.toBytes();
}

/** Checks the 16-byte header of the server's reply; returns the size of what follows. */
export function parseLinkHeader(bytes) {
  const r = new Reader(bytes);
  const magic = r.u32();
  const major = r.u32();
  r.u32(); // minor: ignored, as every client does
  const size = r.u32();
  if (magic !== SPICE_MAGIC) {
    throw new LinkError(-1, 'not a SPICE server (bad magic in the link reply)');
  }
  if (major !== VERSION_MAJOR) {
    throw new LinkError(-1, `SPICE protocol version ${major} is not supported`);
  }
  if (size > MAX_LINK_REPLY_SIZE) {
    throw new ProtocolError(`link reply of ${size} bytes`);
  }
  return size;
}

/**
 * SpiceLinkReply (after the header). A non-OK error comes back as {error} only; the key is the DER
 * SubjectPublicKeyInfo the ticket is encrypted with.
 */
export function parseLinkReply(bytes) {
  const r = new Reader(bytes);
  const error = r.u32();
  if (error !== 0) {
    return { error };
  }
  if (bytes.length < LINK_REPLY_SIZE) {
    throw new ProtocolError(`link reply of ${bytes.length} bytes, ${LINK_REPLY_SIZE} needed`);
  }
  const pubKey = r.bytesView(PUB_KEY_SIZE).slice();
  const numCommon = r.u32();
  const numChannel = r.u32();
  const capsOffset = r.u32();
  if (numCommon > 1024 || numChannel > 1024 || capsOffset + 4 * (numCommon + numChannel) > bytes.length) {
    throw new ProtocolError('capabilities outside the link reply');
  }
  const caps = new Reader(bytes.subarray(capsOffset));
  const commonCaps = [];
  const channelCaps = [];
  for (let i = 0; i < numCommon; i++) {
    commonCaps.push(caps.u32());
  }
  for (let i = 0; i < numChannel; i++) {
    channelCaps.push(caps.u32());
  }
  return { error, pubKey, commonCaps, channelCaps };
}

/** The password's UTF-8 bytes plus the terminating NUL; refuses what SPICE cannot carry. */
export function ticketPlaintext(password) {
  const bytes = new TextEncoder().encode(password || '');
  if (bytes.length > MAX_PASSWORD_BYTES) {
    throw new LinkError(-1, `the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
  if (bytes.includes(0)) {
    throw new LinkError(-1, 'the password contains a NUL character');
  }
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** RSA-OAEP with SHA-1 (MGF1-SHA-1, empty label) of password + NUL under the reply's key: 128 bytes. */
export async function encryptTicket(subtle, spkiKey, password) {
  const key = await subtle.importKey('spki', spkiKey, { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['encrypt']);
  const ticket = new Uint8Array(await subtle.encrypt({ name: 'RSA-OAEP' }, key, ticketPlaintext(password)));
  if (ticket.length !== TICKET_SIZE) {
    throw new LinkError(-1, `the server's key gives a ${ticket.length}-byte ticket, SPICE needs ${TICKET_SIZE}`);
  }
  return ticket;
}

/** Auth mechanism SPICE followed by the ticket, in one message as spice-html5 sends them (§3.1). */
export function encodeAuth(ticket) {
  return new Writer(4 + ticket.length).u32(AUTH_MECHANISM_SPICE).bytesOf(ticket).toBytes();
}
