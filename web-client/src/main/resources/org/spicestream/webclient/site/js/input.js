// Keyboard and mouse from the page to the inputs channel. Keys are taken only while the display area has
// the focus, and never the browser's own tab and window shortcuts (unless the keyboard is locked in
// fullscreen); every key still down is released when the focus goes.

import { MOUSE_BUTTON, MOUSE_MODE, KEY_MODIFIER } from './constants.js';
import { PAUSE_SEQUENCE, scancodeOf } from './scancodes.js';

/** Wheel distance (CSS pixels) of one notch. */
export const WHEEL_NOTCH_PIXELS = 100;
/** Lines per notch when the browser reports the wheel in lines. */
export const WHEEL_NOTCH_LINES = 3;

/** DOM MouseEvent.button -> SPICE button. */
const BUTTONS = Object.freeze({ 0: MOUSE_BUTTON.LEFT, 1: MOUSE_BUTTON.MIDDLE, 2: MOUSE_BUTTON.RIGHT, 3: MOUSE_BUTTON.SIDE, 4: MOUSE_BUTTON.EXTRA });

/**
 * Shortcuts that stay with the browser while the display has the focus: opening, closing and switching
 * tabs and windows, leaving fullscreen, the developer tools. Everything else goes to the guest (Ctrl+R,
 * Ctrl+L, F5 and F12 included: terminals and applications use them).
 */
export function isBrowserShortcut(e) {
  const accel = e.ctrlKey || e.metaKey;
  if (e.code === 'F11') {
    return true;
  }
  if (!accel) {
    return false;
  }
  switch (e.code) {
    case 'KeyT':
    case 'KeyN':
    case 'KeyW':
    case 'Tab':
    case 'PageUp':
    case 'PageDown':
    case 'KeyQ':
      return !e.altKey;
    case 'KeyI':
    case 'KeyJ':
    case 'KeyC':
      return e.shiftKey && !e.altKey; // developer tools
    default:
      return false;
  }
}

/** The lock-key state of a keyboard event as SPICE modifier flags. */
export function lockModifiers(e) {
  let m = 0;
  if (e.getModifierState('ScrollLock')) {
    m |= KEY_MODIFIER.SCROLL_LOCK;
  }
  if (e.getModifierState('NumLock')) {
    m |= KEY_MODIFIER.NUM_LOCK;
  }
  if (e.getModifierState('CapsLock')) {
    m |= KEY_MODIFIER.CAPS_LOCK;
  }
  return m;
}

/**
 * Turns wheel deltas into notches: {@link WHEEL_NOTCH_PIXELS} per notch (touchpads send many small deltas,
 * a mouse wheel one of about 100–120).
 */
export class WheelAccumulator {
  constructor() {
    this.rest = 0;
  }

  /** Notches for one wheel event: negative = up. */
  add(deltaY, deltaMode) {
    const pixels = deltaMode === 1 ? deltaY * (WHEEL_NOTCH_PIXELS / WHEEL_NOTCH_LINES) : deltaMode === 2 ? deltaY * WHEEL_NOTCH_PIXELS * 10 : deltaY;
    this.rest += pixels;
    const notches = Math.trunc(this.rest / WHEEL_NOTCH_PIXELS);
    this.rest -= notches * WHEEL_NOTCH_PIXELS;
    if (notches === 0 && Math.abs(pixels) >= WHEEL_NOTCH_PIXELS / 2) {
      // a wheel click a little under 100 px still scrolls one notch
      this.rest = 0;
      return Math.sign(pixels);
    }
    return notches;
  }
}

export class InputController {
  constructor(page) {
    this.page = page;
    this.inputs = null;
    this.pressed = new Map(); // KeyboardEvent.code -> scancode
    this.buttonsDown = new Set();
    this.wheel = new WheelAccumulator();
    this.needModifierSync = true;
    this.keyboardLocked = false;
  }

  attach(screen) {
    this.screen = screen;
    screen.addEventListener('keydown', (e) => this.onKeyDown(e));
    screen.addEventListener('keyup', (e) => this.onKeyUp(e));
    screen.addEventListener('focus', () => {
      this.needModifierSync = true;
      this.page.focusChanged(true);
    });
    screen.addEventListener('blur', () => {
      this.releaseAll();
      this.page.focusChanged(false);
    });
    screen.addEventListener('pointermove', (e) => this.onPointerMove(e));
    screen.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    screen.addEventListener('pointerup', (e) => this.onPointerUp(e));
    screen.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    screen.addEventListener('contextmenu', (e) => {
      if (this.displayOf(e)) {
        e.preventDefault();
      }
    });
    document.addEventListener('pointerlockchange', () => {
      if (!document.pointerLockElement) {
        this.releaseButtons();
      }
      this.page.pointerLockChanged(Boolean(document.pointerLockElement));
    });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        this.releaseAll();
      }
    });
    window.addEventListener('blur', () => this.releaseAll());
  }

  setInputs(inputs) {
    this.inputs = inputs;
    this.pressed.clear();
    this.buttonsDown.clear();
  }

  // ------------------------------------------------------------------ keyboard

  onKeyDown(e) {
    if (!this.inputs || (!this.keyboardLocked && isBrowserShortcut(e))) {
      return;
    }
    if (e.code === 'Pause') {
      e.preventDefault();
      this.inputs.scancodes(PAUSE_SEQUENCE);
      return;
    }
    const scancode = scancodeOf(e.code);
    if (scancode === undefined) {
      return; // a key SPICE cannot carry: leave it to the browser
    }
    e.preventDefault();
    if (this.needModifierSync && !['CapsLock', 'NumLock', 'ScrollLock'].includes(e.code)) {
      this.needModifierSync = false;
      this.inputs.syncModifiers(lockModifiers(e));
    }
    this.pressed.set(e.code, scancode);
    this.inputs.keyDown(scancode);
  }

  onKeyUp(e) {
    const scancode = this.pressed.get(e.code);
    if (scancode === undefined || !this.inputs) {
      return; // its press went to the browser
    }
    e.preventDefault();
    this.pressed.delete(e.code);
    this.inputs.keyUp(scancode);
  }

  /** Sends a key combination (press in order, release in reverse), e.g. Ctrl+Alt+Del from the toolbar. */
  sendCombination(codes) {
    if (!this.inputs) {
      return;
    }
    const scancodes = codes.map(scancodeOf);
    scancodes.forEach((s) => this.inputs.keyDown(s));
    scancodes.reverse().forEach((s) => this.inputs.keyUp(s));
  }

  releaseAll() {
    if (this.inputs) {
      for (const scancode of this.pressed.values()) {
        this.inputs.keyUp(scancode);
      }
    }
    this.pressed.clear();
    this.releaseButtons();
  }

  releaseButtons() {
    if (this.inputs) {
      for (const button of this.buttonsDown) {
        this.inputs.release(button);
      }
    }
    this.buttonsDown.clear();
  }

  // ------------------------------------------------------------------ mouse

  displayOf(e) {
    const target = document.pointerLockElement || e.target;
    const id = target && target.dataset ? target.dataset.display : undefined;
    return id === undefined ? null : this.page.views.get(Number(id)) || null;
  }

  get locked() {
    return Boolean(document.pointerLockElement);
  }

  onPointerMove(e) {
    const view = this.displayOf(e);
    if (!this.inputs || !view || view.width === 0) {
      return;
    }
    if (this.page.mouseMode === MOUSE_MODE.CLIENT) {
      const p = view.toSurface(e.clientX, e.clientY);
      this.inputs.position(p.x, p.y, view.id);
    } else if (this.locked) {
      // the guest moves its pointer in its own pixels: undo the page's scale
      this.inputs.motion(e.movementX / view.scale, e.movementY / view.scale);
    }
  }

  onPointerDown(e) {
    const view = this.displayOf(e);
    if (!view) {
      return;
    }
    this.screen.focus({ preventScroll: true });
    if (!this.inputs) {
      return;
    }
    e.preventDefault();
    if (this.page.mouseMode === MOUSE_MODE.SERVER && !this.locked) {
      // relative motion needs the pointer captured: this click captures it (Esc gives it back)
      this.page.requestPointerLock(view);
      return;
    }
    const button = BUTTONS[e.button];
    if (button === undefined) {
      return;
    }
    if (this.page.mouseMode === MOUSE_MODE.CLIENT) {
      const p = view.toSurface(e.clientX, e.clientY);
      this.inputs.position(p.x, p.y, view.id);
      view.canvas.setPointerCapture?.(e.pointerId);
    }
    this.buttonsDown.add(button);
    this.inputs.press(button);
  }

  onPointerUp(e) {
    const button = BUTTONS[e.button];
    if (!this.inputs || button === undefined || !this.buttonsDown.has(button)) {
      return;
    }
    e.preventDefault();
    this.buttonsDown.delete(button);
    this.inputs.release(button);
  }

  onWheel(e) {
    const view = this.displayOf(e);
    if (!view || !this.inputs) {
      return;
    }
    e.preventDefault();
    if (this.page.mouseMode === MOUSE_MODE.SERVER && !this.locked) {
      return;
    }
    const notches = this.wheel.add(e.deltaY, e.deltaMode);
    const button = notches < 0 ? MOUSE_BUTTON.UP : MOUSE_BUTTON.DOWN;
    for (let i = 0; i < Math.min(Math.abs(notches), 10); i++) {
      this.inputs.wheel(button);
    }
  }
}
