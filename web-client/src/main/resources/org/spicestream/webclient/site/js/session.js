// One SPICE session: the main channel, then every display, cursor and inputs channel it lists, all on
// the same WebSocket URL; the session's multimedia clock; frame listeners for measurements.

import { CHANNEL, MOUSE_MODE } from './constants.js';
import { CursorChannel } from './cursor.js';
import { DisplayChannel } from './display.js';
import { InputsChannel } from './inputs.js';
import { MainChannel } from './main-channel.js';

export class Session {
  /**
   * @param {object} o url (WebSocket), password, codecs (Set of CODEC values the browser decodes), ui (the
   *     page: displayView(id), removeDisplay(id), setMouseMode(mode), setInputs(channel), setTitle(text),
   *     notify(severity, text), log(text)), log (console-like), decoderOptions
   */
  constructor(o) {
    this.url = o.url;
    this.password = o.password || '';
    this.codecs = o.codecs;
    this.ui = o.ui;
    this.log = o.log || console;
    this.decoderOptions = o.decoderOptions || {};
    this.channels = new Map();
    this.frameListeners = new Set();
    this.sessionId = 0;
    this.mmAt = 0;
    this.mmBase = performance.now();
    this.mouseMode = MOUSE_MODE.SERVER;
    this.ended = false;
    this.onEnd = () => {};
    this.main = null;
  }

  /** Links the main channel; resolves once the server accepted it (rejects with LinkError otherwise). */
  start() {
    this.main = new MainChannel(this, this.channelOptions(0));
    this.channels.set(`${CHANNEL.MAIN}:0`, this.main);
    return this.main.open();
  }

  channelOptions(id) {
    return { url: this.url, id, password: this.password, connectionId: this.sessionId, log: this.log };
  }

  /** The session's multimedia clock (u32 ms), set by MAIN_INIT and MULTI_MEDIA_TIME, running on the local clock. */
  mmTime() {
    return (this.mmAt + Math.floor(performance.now() - this.mmBase)) >>> 0;
  }

  setMmTime(t) {
    this.mmAt = t >>> 0;
    this.mmBase = performance.now();
  }

  onMainInit(init) {
    this.sessionId = init.sessionId;
    this.setMmTime(init.multiMediaTime);
    this.onMouseMode(init.currentMouseMode, init.supportedMouseModes);
  }

  onMouseMode(current, supported) {
    this.mouseMode = current;
    this.supportedMouseModes = supported;
    this.ui.setMouseMode(current);
  }

  onChannelsList(list) {
    for (const { type, id } of list) {
      const key = `${type}:${id}`;
      if (this.ended || this.channels.has(key)) {
        continue; // announced twice: keep the one we have
      }
      let channel;
      const options = this.channelOptions(id);
      switch (type) {
        case CHANNEL.DISPLAY:
          channel = new DisplayChannel(this, this.ui.displayView(id), options);
          break;
        case CHANNEL.CURSOR:
          channel = new CursorChannel(this, this.ui.displayView(id), options);
          break;
        case CHANNEL.INPUTS:
          channel = new InputsChannel(this, options);
          break;
        default:
          continue; // audio, USB, smartcard, ports: not for this client
      }
      this.channels.set(key, channel);
      channel.open().then(() => {
        if (type === CHANNEL.INPUTS) {
          this.ui.setInputs(channel);
        }
      }, (e) => {
        this.log.info(`${channel.name}: ${e.message}`);
        this.ui.log(`${channel.name}: ${e.message}`);
        if (type === CHANNEL.DISPLAY) {
          this.ui.displayView(id).setMessage(`display ${id}: ${e.message}`);
        }
      });
    }
  }

  onName(name) {
    this.ui.setTitle(name);
  }

  onNotify(severity, text) {
    this.ui.notify(severity, text);
  }

  logDisplay(id, text) {
    this.ui.log(`display ${id}: ${text}`);
  }

  /** A frame was drawn: tell the listeners (measurements, tests) with everything known about it. */
  emitFrame(display, stream, meta) {
    if (this.frameListeners.size === 0) {
      return;
    }
    const info = {
      display: display.id,
      canvas: display.view.canvas,
      streamId: stream.id,
      codec: stream.codec,
      width: stream.width,
      height: stream.height,
      mmTime: meta.mmTime,
      key: meta.key,
      bytes: meta.bytes,
      arrivedAt: meta.arrivedAt,
      submittedAt: meta.submittedAt,
      decodedAt: meta.decodedAt,
      drawnAt: meta.drawnAt,
      timeOrigin: performance.timeOrigin,
    };
    for (const listener of this.frameListeners) {
      try {
        listener(info);
      } catch (e) {
        this.log.error('frame listener failed:', e);
      }
    }
  }

  onDisplayClosed(display, info) {
    if (!this.ended && this.channels.get(`${CHANNEL.DISPLAY}:${display.id}`) === display) {
      this.channels.delete(`${CHANNEL.DISPLAY}:${display.id}`);
      if (info.wasReady) {
        this.ui.removeDisplay(display.id);
      }
    }
  }

  onInputsClosed(inputs) {
    this.ui.setInputs(null);
    if (!this.ended) {
      this.channels.delete(`${CHANNEL.INPUTS}:${inputs.id}`);
    }
  }

  onMainClosed(info) {
    if (this.ended) {
      return;
    }
    this.ended = true;
    for (const channel of this.channels.values()) {
      if (channel !== this.main) {
        channel.close('the main channel closed');
      }
    }
    this.onEnd(info);
  }

  /** Closes every channel; onEnd runs once. */
  close() {
    if (this.main) {
      this.main.close('closed by the page');
    } else {
      this.ended = true;
    }
  }
}
