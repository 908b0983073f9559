// One SPICE channel over one WebSocket (spice-wire §2): link, then messages with the common ones
// (SET_ACK / ACK window, PING, NOTIFY, DISCONNECTING) answered here; subclasses handle the rest.

import { CHANNEL_NAME, COMMON_CAP, MSG, MSGC, NOTIFY_SEVERITY } from './constants.js';
import {
  LINK_HEADER_SIZE,
  LinkError,
  encodeAuth,
  encodeLinkMess,
  encryptTicket,
  parseLinkHeader,
  parseLinkReply,
} from './link.js';
import { ByteQueue, MessageReader, ProtocolError, Reader, Writer, decodeText, encodeMessage, hasCap } from './wire.js';

/** Time from opening the WebSocket to the link result. */
export const LINK_TIMEOUT_MS = 15000;

/** What every channel of this client announces: auth selection, SPICE auth, mini header. */
export const CLIENT_COMMON_CAPS = [COMMON_CAP.AUTH_SELECTION, COMMON_CAP.AUTH_SPICE, COMMON_CAP.MINI_HEADER];

const STATE_REPLY_HEADER = 'reply-header';
const STATE_REPLY = 'reply';
const STATE_AUTH = 'auth';
const STATE_RESULT = 'result';
const STATE_READY = 'ready';
const STATE_CLOSED = 'closed';

/**
 * Base of the main, display, cursor and inputs channels. {@link #open} links and resolves once the link
 * result is OK; {@link #closed} resolves when the WebSocket is gone, with what is known about why.
 */
export class SpiceChannel {
  /**
   * @param {object} o url, type, id, connectionId, password, channelCaps (numbers), log, subtle
   *     (WebCrypto), WebSocketImpl (tests)
   */
  constructor(o) {
    this.url = o.url;
    this.type = o.type;
    this.id = o.id;
    this.connectionId = o.connectionId >>> 0;
    this.password = o.password || '';
    this.channelCaps = o.channelCaps || [];
    this.log = o.log || console;
    this.subtle = o.subtle || globalThis.crypto?.subtle;
    this.WebSocketImpl = o.WebSocketImpl || globalThis.WebSocket;
    this.name = `${CHANNEL_NAME[this.type] || this.type}:${this.id}`;
    this.state = null;
    this.queue = new ByteQueue();
    this.reader = null;
    this.miniHeader = true;
    this.serial = 0;
    this.remoteCommonCaps = [];
    this.remoteChannelCaps = [];
    this.ackWindow = 0;
    this.ackCount = 0;
    this.bytesIn = 0;
    this.messagesIn = 0;
    this.disconnectReason = null;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Opens the WebSocket and links; resolves when the server accepted the link. */
  open() {
    if (this.state !== null) {
      throw new Error(`${this.name}: already opened`);
    }
    if (!this.subtle) {
      return Promise.reject(new LinkError(-1, 'no WebCrypto here (the page must be a secure context)'));
    }
    return new Promise((resolve, reject) => {
      this.linkResolve = resolve;
      this.linkReject = reject;
      this.state = STATE_REPLY_HEADER;
      this.linkTimer = setTimeout(() => this.fail(new LinkError(-1, `no link result within ${LINK_TIMEOUT_MS} ms`)), LINK_TIMEOUT_MS);
      let ws;
      try {
        ws = new this.WebSocketImpl(this.url, ['binary']);
      } catch (e) {
        this.fail(e);
        return;
      }
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => {
        ws.send(encodeLinkMess({
          connectionId: this.connectionId,
          channelType: this.type,
          channelId: this.id,
          commonCaps: CLIENT_COMMON_CAPS,
          channelCaps: this.channelCaps,
        }));
      };
      ws.onmessage = (e) => this.onData(new Uint8Array(e.data));
      ws.onerror = () => {
        // the close event that follows carries the details
      };
      ws.onclose = (e) => this.onSocketClosed(e);
    });
  }

  onData(bytes) {
    if (this.state === STATE_CLOSED) {
      return;
    }
    this.bytesIn += bytes.length;
    this.queue.push(bytes);
    try {
      this.process();
    } catch (e) {
      this.fail(e);
    }
  }

  process() {
    const q = this.queue;
    if (this.state === STATE_REPLY_HEADER && q.length >= LINK_HEADER_SIZE) {
      this.replySize = parseLinkHeader(q.take(LINK_HEADER_SIZE));
      this.state = STATE_REPLY;
    }
    if (this.state === STATE_REPLY && q.length >= this.replySize) {
      const reply = parseLinkReply(q.take(this.replySize));
      if (reply.error !== 0) {
        throw new LinkError(reply.error);
      }
      this.remoteCommonCaps = reply.commonCaps;
      this.remoteChannelCaps = reply.channelCaps;
      this.miniHeader = hasCap(reply.commonCaps, COMMON_CAP.MINI_HEADER);
      this.state = STATE_AUTH;
      encryptTicket(this.subtle, reply.pubKey, this.password).then((ticket) => {
        if (this.state === STATE_AUTH) {
          this.ws.send(encodeAuth(ticket));
          this.state = STATE_RESULT;
          this.onData(new Uint8Array(0));
        }
      }, (e) => this.fail(e));
    }
    if (this.state === STATE_RESULT && q.length >= 4) {
      const result = new Reader(q.take(4)).u32();
      if (result !== 0) {
        throw new LinkError(result);
      }
      this.state = STATE_READY;
      clearTimeout(this.linkTimer);
      this.reader = new MessageReader(q, this.miniHeader);
      this.linkResolve(this);
      this.onReady();
    }
    if (this.state === STATE_READY) {
      let m;
      while (this.state === STATE_READY && (m = this.reader.next()) !== null) {
        this.messagesIn++;
        this.dispatch(m.type, m.body);
      }
    }
  }

  dispatch(type, body) {
    if (this.ackWindow > 0 && type !== MSG.SET_ACK && ++this.ackCount >= this.ackWindow) {
      this.ackCount = 0;
      this.send(MSGC.ACK, new Uint8Array(0));
    }
    const r = new Reader(body);
    switch (type) {
      case MSG.SET_ACK: {
        const generation = r.u32();
        this.ackWindow = r.u32();
        this.ackCount = 0;
        this.send(MSGC.ACK_SYNC, new Writer(4).u32(generation).toBytes());
        return;
      }
      case MSG.PING: {
        r.need(12);
        this.send(MSGC.PONG, body.slice(0, 12)); // id + timestamp, never the filler
        return;
      }
      case MSG.NOTIFY: {
        r.u64();
        const severity = r.u32();
        r.u32(); // visibility
        r.u32(); // what
        const len = Math.min(r.u32(), r.remaining);
        this.onNotify(NOTIFY_SEVERITY[severity] || 'info', decodeText(r.bytesView(len)));
        return;
      }
      case MSG.DISCONNECTING: {
        r.u64();
        this.disconnectReason = r.u32();
        return;
      }
      case MSG.MIGRATE:
      case MSG.MIGRATE_DATA:
      case MSG.WAIT_FOR_CHANNELS:
      case MSG.LIST:
        return; // nothing a viewer of one server needs
      default:
        this.handleMessage(type, r, body);
    }
  }

  /** Sends one message (dropped silently once the socket is not open). */
  send(type, body) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1 || this.state !== STATE_READY) {
      return false;
    }
    this.serial++;
    ws.send(encodeMessage(type, body, this.miniHeader, this.serial));
    return true;
  }

  /** Bytes the browser has not handed to the network yet (back-pressure for input). */
  get bufferedAmount() {
    return this.ws ? this.ws.bufferedAmount : 0;
  }

  remoteHasChannelCap(cap) {
    return hasCap(this.remoteChannelCaps, cap);
  }

  /** Closes the channel on our side. */
  close(reason = 'closed by the client') {
    if (this.state === STATE_CLOSED) {
      return;
    }
    this.fail(null, reason);
  }

  fail(error, reason) {
    if (this.state === STATE_CLOSED) {
      return;
    }
    const wasReady = this.state === STATE_READY;
    this.state = STATE_CLOSED;
    clearTimeout(this.linkTimer);
    if (error && !(error instanceof LinkError) && !(error instanceof ProtocolError)) {
      this.log.error(`${this.name}:`, error);
    } else if (error) {
      this.log.info(`${this.name}: ${error.message}`);
    }
    this.closeSocket();
    if (!wasReady && this.linkReject) {
      this.linkReject(error || new LinkError(-1, reason || 'closed during the link'));
    }
    this.finish({ error, reason: reason || (error ? error.message : 'closed'), wasReady });
  }

  /** Closes the WebSocket; one still connecting is closed once open (closing it earlier logs a browser error). */
  closeSocket() {
    const ws = this.ws;
    if (!ws) {
      return;
    }
    ws.onmessage = null;
    if (ws.readyState === 0) {
      ws.onopen = () => ws.close();
    } else {
      try {
        ws.close();
      } catch (e) {
        // already closing
      }
    }
  }

  onSocketClosed(e) {
    if (this.state === STATE_CLOSED) {
      return;
    }
    const wasReady = this.state === STATE_READY;
    if (!wasReady) {
      this.fail(new LinkError(-1, `connection closed during the link (${e.code})`));
      return;
    }
    this.state = STATE_CLOSED;
    // DISCONNECTING OK: the server shuts down; another reason: it ended this session (spicestream: a new client
    // replaced it)
    const reason = this.disconnectReason;
    const why = reason === null ? `connection closed (${e.code})`
      : reason === 0 ? 'the server is shutting down' : 'another viewer took over this session';
    this.finish({ error: null, reason: why, code: e.code, wasReady, serverShutdown: reason === 0, replaced: reason !== null && reason !== 0 });
  }

  finish(info) {
    if (this.closeInfo) {
      return;
    }
    this.closeInfo = info;
    try {
      this.onClosed(info);
    } finally {
      this.resolveClosed(info);
    }
  }

  // ------------------------------------------------------------------ hooks

  /** The link succeeded: send the channel's first messages. */
  onReady() {}

  /** A channel-specific message; {@code r} reads the body, {@code body} is the raw bytes (a view). */
  handleMessage(type, r, body) {}

  onNotify(severity, text) {
    this.log.info(`${this.name}: server says (${severity}): ${text}`);
  }

  onClosed(info) {}
}
