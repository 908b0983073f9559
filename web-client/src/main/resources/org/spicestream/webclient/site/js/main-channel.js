// The main channel (spice-wire §8): session id and clocks from MAIN_INIT, the list of channels,
// mouse mode and multimedia time.

import { MAIN, MAINC, MAIN_CAP, MOUSE_MODE, CHANNEL } from './constants.js';
import { SpiceChannel } from './channel.js';
import { Writer, decodeText } from './wire.js';

/** Channels a CHANNELS_LIST may name at most (u8 type × u8 id). */
export const MAX_LISTED_CHANNELS = 256 * 4;

export class MainChannel extends SpiceChannel {
  constructor(session, options) {
    super({ ...options, type: CHANNEL.MAIN, id: 0, connectionId: 0, channelCaps: [MAIN_CAP.NAME_AND_UUID] });
    this.session = session;
  }

  handleMessage(type, r) {
    switch (type) {
      case MAIN.INIT: {
        const init = {
          sessionId: r.u32(),
          displayChannelsHint: r.u32(),
          supportedMouseModes: r.u32(),
          currentMouseMode: r.u32(),
          agentConnected: r.u32(),
          agentTokens: r.u32(),
          multiMediaTime: r.u32(),
          ramHint: r.u32(),
        };
        this.session.onMainInit(init);
        this.send(MAINC.ATTACH_CHANNELS, new Uint8Array(0));
        this.maybeRequestClientMouse(init.supportedMouseModes, init.currentMouseMode);
        return;
      }
      case MAIN.CHANNELS_LIST: {
        const n = r.u32();
        if (n > MAX_LISTED_CHANNELS) {
          throw new Error(`CHANNELS_LIST of ${n} channels`);
        }
        const list = [];
        for (let i = 0; i < n; i++) {
          list.push({ type: r.u8(), id: r.u8() });
        }
        this.session.onChannelsList(list);
        return;
      }
      case MAIN.MOUSE_MODE: {
        const supported = r.u16();
        const current = r.u16();
        this.session.onMouseMode(current, supported);
        this.maybeRequestClientMouse(supported, current);
        return;
      }
      case MAIN.MULTI_MEDIA_TIME:
        this.session.setMmTime(r.u32());
        return;
      case MAIN.NAME: {
        const len = Math.min(r.u32(), r.remaining);
        this.session.onName(decodeText(r.bytesView(len)));
        return;
      }
      default:
        // UUID, agent messages: no agent support in this client
        return;
    }
  }

  /** Absolute positions follow the local pointer exactly, so ask for CLIENT mode whenever it is offered. */
  maybeRequestClientMouse(supported, current) {
    if ((supported & MOUSE_MODE.CLIENT) && current !== MOUSE_MODE.CLIENT && !this.clientModeRequested) {
      this.clientModeRequested = true;
      this.send(MAINC.MOUSE_MODE_REQUEST, new Writer(2).u16(MOUSE_MODE.CLIENT).toBytes());
    }
  }

  onNotify(severity, text) {
    this.session.onNotify(severity, text);
  }

  onClosed(info) {
    this.session.onMainClosed(info);
  }
}
