// The page: checks what the browser can do, connects to its own server (asking for a password only when
// one is needed), lays the displays out, shows status and statistics, reconnects with back-off.

import { CODEC_NAME, LINK_ERR, MOUSE_MODE } from './constants.js';
import { probeCodecs } from './codecs.js';
import { ReconnectBackoff } from './backoff.js';
import { InputController } from './input.js';
import { LinkError } from './link.js';
import { Session } from './session.js';
import { DisplayView } from './view.js';
import { readParameters, webSocketUrl, withoutPassword } from './url.js';

/** Lines kept in the page's own log (shown with the statistics). */
export const MAX_LOG_LINES = 200;
/** How often the statistics overlay is refreshed. */
export const OVERLAY_REFRESH_MS = 500;
/** Space kept between displays shown side by side (CSS pixels). */
export const DISPLAY_GAP = 8;

const $ = (id) => document.getElementById(id);

class Page {
  constructor() {
    this.params = readParameters(location.search);
    if (this.params.password !== null) {
      history.replaceState(null, '', location.pathname + withoutPassword(location.search) + location.hash);
    }
    this.password = this.params.password || '';
    this.passwordGiven = this.params.password !== null;
    this.url = webSocketUrl(location);
    this.views = new Map();
    this.frameListeners = new Set();
    this.mouseMode = MOUSE_MODE.SERVER;
    this.session = null;
    this.state = 'starting';
    this.stateText = '';
    this.logLines = [];
    this.backoff = new ReconnectBackoff();
    this.reconnectTimer = null;
    this.connectedAt = 0;
    this.codecs = new Set();
    this.codecDetails = {};
    this.input = new InputController(this);
    this.screen = $('screen');
  }

  async boot() {
    this.input.attach(this.screen);
    this.wireToolbar();
    new ResizeObserver(() => this.layout()).observe(this.screen);
    if (!window.isSecureContext || !globalThis.crypto?.subtle) {
      this.fatal('This page is not a secure context, so the browser offers neither WebCrypto (needed for the '
        + 'SPICE password exchange) nor WebCodecs. Open it as https:// (spice-streamd --tls-port), or as '
        + 'http://127.0.0.1 or http://localhost on the machine itself (for example through an SSH tunnel: '
        + `ssh -L 5900:127.0.0.1:5900 host, then http://127.0.0.1:5900${location.pathname}).`);
      return;
    }
    const probe = await probeCodecs();
    this.codecs = probe.codecs;
    this.codecDetails = probe.details;
    if (typeof globalThis.VideoDecoder !== 'function') {
      this.notice('This browser has no WebCodecs (VideoDecoder): only MJPEG streams can be shown, and the '
        + 'server is told so. A current Chromium, Edge, Firefox or Safari decodes H.264, VP8 and VP9.');
    }
    this.log(`codecs announced: ${this.codecNames().join(', ')}`);
    if (this.params.overlay) {
      this.toggleOverlay(true);
    }
    this.connect();
  }

  codecNames() {
    return [...this.codecs].sort((a, b) => a - b).map((c) => CODEC_NAME[c]);
  }

  // ------------------------------------------------------------------ connection

  connect() {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.session && !this.session.ended) {
      this.session.onEnd = () => {};
      this.session.close();
    }
    this.clearDisplays();
    this.setState('connecting', `connecting to ${location.host}`);
    const session = new Session({
      url: this.url,
      password: this.password,
      codecs: this.codecs,
      ui: this,
      log: { debug: console.debug, info: console.debug, warn: console.warn, error: console.error },
      decoderOptions: { jpegDecoder: this.params.jpegDecoder },
    });
    session.frameListeners = this.frameListeners;
    session.onEnd = (info) => this.sessionEnded(session, info);
    this.session = session;
    session.start().then(() => {
      if (this.session !== session) {
        return;
      }
      this.connectedAt = performance.now();
      this.hideLogin();
      this.setState('connected', `connected to ${location.host}`);
    }, (e) => {
      if (this.session === session) {
        this.linkFailed(e);
      }
    });
  }

  linkFailed(e) {
    this.log(`link failed: ${e.message}`);
    if (e instanceof LinkError && e.code === LINK_ERR.PERMISSION_DENIED) {
      const wrong = this.passwordGiven;
      this.setState('password', wrong ? 'wrong password' : 'this server needs a password');
      this.showLogin(wrong ? 'Wrong password — try again.' : 'This server needs a password.');
      return;
    }
    if (e instanceof LinkError && (e.code === LINK_ERR.NEED_SECURED || e.code === -1 && /password/.test(e.message))) {
      this.setState('error', e.message);
      return;
    }
    this.scheduleReconnect(`cannot connect: ${e.message}`);
  }

  sessionEnded(session, info) {
    if (this.session !== session || !info.wasReady) {
      return; // a link that failed is linkFailed's business
    }
    this.clearDisplays();
    this.log(`session ended: ${info.reason}`);
    this.backoff.connectionEnded(performance.now() - this.connectedAt);
    if (info.replaced) {
      // taking it back by ourselves would only start a tug of war with the other viewer
      this.setState('replaced', `${info.reason} — Reconnect takes it back`);
      return;
    }
    this.scheduleReconnect(info.serverShutdown ? 'the server shut down' : `disconnected: ${info.reason}`);
  }

  scheduleReconnect(why) {
    clearTimeout(this.reconnectTimer);
    const delay = this.backoff.next();
    const at = performance.now() + delay;
    const tick = () => {
      const left = Math.max(0, Math.ceil((at - performance.now()) / 1000));
      this.setState('reconnecting', `${why} — reconnecting in ${left} s`);
      if (left > 0) {
        this.reconnectTimer = setTimeout(tick, Math.min(1000, at - performance.now()));
      } else {
        this.connect();
      }
    };
    tick();
  }

  setState(state, text) {
    this.state = state;
    this.stateText = text;
    const status = $('status');
    status.dataset.state = state;
    $('status-text').textContent = text;
    $('reconnect').hidden = !(state === 'reconnecting' || state === 'error' || state === 'replaced');
  }

  fatal(text) {
    this.setState('error', 'cannot run here');
    this.notice(text);
  }

  notice(text) {
    const n = $('notice');
    n.textContent = text;
    n.hidden = false;
  }

  showLogin(text) {
    $('login-message').textContent = text;
    $('login').hidden = false;
    $('password').value = '';
    $('password').focus();
  }

  hideLogin() {
    $('login').hidden = true;
  }

  // ------------------------------------------------------------------ what the session asks of the page

  displayView(id) {
    let view = this.views.get(id);
    if (!view) {
      view = new DisplayView(id, this);
      this.views.set(id, view);
      const after = [...this.views.keys()].filter((k) => k > id).sort((a, b) => a - b)[0];
      this.screen.insertBefore(view.el, after === undefined ? $('overlay') : this.views.get(after).el);
      this.layout();
    }
    return view;
  }

  removeDisplay(id) {
    const view = this.views.get(id);
    if (view) {
      view.el.remove();
      this.views.delete(id);
      this.layout();
    }
  }

  clearDisplays() {
    for (const id of [...this.views.keys()]) {
      this.removeDisplay(id);
    }
    this.setInputs(null);
  }

  setMouseMode(mode) {
    this.mouseMode = mode;
    if (mode === MOUSE_MODE.CLIENT && document.pointerLockElement) {
      document.exitPointerLock();
    }
    this.views.forEach((v) => v.placeCursor());
    this.updateHint();
  }

  setInputs(inputs) {
    this.input.setInputs(inputs);
    this.updateHint();
  }

  setTitle(name) {
    document.title = `${name} — spicestream`;
    $('title').textContent = name;
  }

  notify(severity, text) {
    this.log(`server ${severity}: ${text}`);
  }

  log(text) {
    const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
    this.logLines.push(line);
    if (this.logLines.length > MAX_LOG_LINES) {
      this.logLines.shift();
    }
    console.debug(`spicestream: ${text}`);
  }

  focusChanged() {
    this.updateHint();
  }

  pointerLockChanged() {
    this.updateHint();
  }

  requestPointerLock(view) {
    const p = view.canvas.requestPointerLock?.({ unadjustedMovement: true });
    // unadjustedMovement is not offered everywhere: fall back to the plain request
    if (p && typeof p.catch === 'function') {
      p.catch(() => view.canvas.requestPointerLock()?.catch?.((e) => this.log(`pointer lock refused: ${e.message}`)));
    }
  }

  updateHint() {
    let hint = '';
    if (this.input.inputs) {
      if (document.activeElement !== this.screen) {
        hint = 'click the display to type';
      } else if (this.mouseMode === MOUSE_MODE.SERVER && !document.pointerLockElement) {
        hint = 'keyboard to the guest · click to capture the mouse (Esc releases it)';
      } else if (document.pointerLockElement) {
        hint = 'mouse captured · Esc releases it';
      } else {
        hint = 'keyboard and mouse to the guest';
      }
    }
    $('hint').textContent = hint;
  }

  /** Scales every display by the same factor so that all fit side by side. */
  layout() {
    const shown = [...this.views.values()].filter((v) => v.width > 0);
    if (shown.length === 0) {
      return;
    }
    const style = getComputedStyle(this.screen);
    const availW = this.screen.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
      - DISPLAY_GAP * (shown.length - 1);
    const availH = this.screen.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const sumW = shown.reduce((s, v) => s + v.width, 0);
    const maxH = Math.max(...shown.map((v) => v.height));
    let scale = Math.min(availW / sumW, availH / maxH);
    if (!Number.isFinite(scale) || scale <= 0) {
      scale = 1;
    }
    shown.forEach((v) => v.setScale(scale));
  }

  // ------------------------------------------------------------------ toolbar, overlay

  wireToolbar() {
    $('reconnect').addEventListener('click', () => {
      this.backoff.reset();
      this.connect();
    });
    $('cad').addEventListener('click', () => this.input.sendCombination(['ControlLeft', 'AltLeft', 'Delete']));
    $('fullscreen').addEventListener('click', () => {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else {
        this.screen.requestFullscreen().catch((e) => this.log(`fullscreen refused: ${e.message}`));
      }
    });
    document.addEventListener('fullscreenchange', () => {
      const full = document.fullscreenElement === this.screen;
      // in fullscreen the keyboard can be locked: then every key, Esc and browser shortcuts too, goes to the guest
      if (full && navigator.keyboard?.lock) {
        navigator.keyboard.lock().then(() => {
          this.input.keyboardLocked = true;
        }, () => {});
      } else {
        navigator.keyboard?.unlock?.();
        this.input.keyboardLocked = false;
      }
      this.screen.focus({ preventScroll: true });
      this.layout();
    });
    $('stats').addEventListener('click', () => this.toggleOverlay());
    $('login').addEventListener('submit', (e) => {
      e.preventDefault();
      this.password = $('password').value;
      this.passwordGiven = true;
      this.hideLogin();
      this.backoff.reset();
      this.connect();
    });
  }

  toggleOverlay(show) {
    const overlay = $('overlay');
    overlay.hidden = show === undefined ? !overlay.hidden : !show;
    clearInterval(this.overlayTimer);
    if (!overlay.hidden) {
      this.renderOverlay();
      this.overlayTimer = setInterval(() => this.renderOverlay(), OVERLAY_REFRESH_MS);
    }
  }

  renderOverlay() {
    const now = performance.now();
    const fmt = (v, unit) => (Number.isFinite(v) ? `${v.toFixed(1)} ${unit}` : '–');
    const lines = [];
    for (const view of this.views.values()) {
      const s = view.stats.summary(now);
      lines.push(`display ${view.id}: ${s.codec || 'no stream'} ${s.size || ''}`);
      lines.push(`  ${s.fps} fps · ${(s.kbps / 1000).toFixed(1)} Mbit/s · decode ${fmt(s.decodeMs, 'ms')} (p95 ${fmt(s.decodeP95Ms, 'ms')})`);
      lines.push(`  ≈ glass-to-glass ${fmt(s.g2gMs, 'ms')} (p95 ${fmt(s.g2gP95Ms, 'ms')}) · drawn ${s.framesDrawn} · drops ${s.drops}`);
    }
    lines.push(`codecs: ${this.codecNames().join(', ')} · mouse ${this.mouseMode === MOUSE_MODE.CLIENT ? 'absolute' : 'relative'}`);
    lines.push('', ...this.logLines.slice(-8));
    $('overlay').textContent = lines.join('\n');
  }

  // ------------------------------------------------------------------ API for measurements and tests

  api() {
    const page = this;
    return Object.freeze({
      /** Calls fn(info) after every frame drawn; returns a function that removes it. */
      onFrame(fn) {
        page.frameListeners.add(fn);
        return () => page.frameListeners.delete(fn);
      },
      /** {state, text}: starting, connecting, connected, reconnecting, replaced, password, error. */
      status: () => ({ state: page.state, text: page.stateText }),
      /** The codecs announced to the server, by name. */
      codecs: () => page.codecNames(),
      codecDetails: () => ({ ...page.codecDetails }),
      /** Per display: its canvas and the overlay's figures. */
      displays: () => [...page.views.values()].map((v) => ({ id: v.id, canvas: v.canvas, ...v.stats.summary(performance.now()) })),
      mouseMode: () => (page.mouseMode === MOUSE_MODE.CLIENT ? 'client' : 'server'),
      inputsReady: () => page.input.inputs !== null,
      log: () => page.logLines.slice(),
    });
  }
}

const page = new Page();
window.spicestream = page.api();
page.boot().catch((e) => {
  console.error('spicestream: start failed', e);
  page.fatal(`The client could not start: ${e.message}`);
});
