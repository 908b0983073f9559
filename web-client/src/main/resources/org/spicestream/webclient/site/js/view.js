// One display on the page: a readable 2D <canvas> holding the guest's primary surface (its pixels are
// exactly the decoded pictures, whatever the on-screen scale), the guest cursor on top, messages.

import { MOUSE_MODE } from './constants.js';
import { DisplayStats } from './stats.js';

/** Chromium ignores CSS cursors larger than this; bigger guest cursors are drawn as an overlay. */
export const MAX_CSS_CURSOR = 128;

export class DisplayView {
  constructor(id, page) {
    this.id = id;
    this.page = page;
    this.stats = new DisplayStats();
    this.el = document.createElement('div');
    this.el.className = 'display waiting';
    this.el.dataset.display = String(id);
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'screen';
    this.canvas.id = `display-${id}`;
    this.canvas.width = 0;
    this.canvas.height = 0;
    this.canvas.dataset.display = String(id);
    this.cursorCanvas = document.createElement('canvas');
    this.cursorCanvas.className = 'guest-cursor';
    this.cursorCanvas.hidden = true;
    this.message = document.createElement('div');
    this.message.className = 'message';
    this.message.textContent = `display ${id}: waiting for the guest`;
    this.el.append(this.canvas, this.cursorCanvas, this.message);
    this.ctx = null;
    this.heads = [];
    this.cursor = { shape: null, x: 0, y: 0, visible: false, css: null };
    this.scale = 1;
  }

  /** A new primary surface: the canvas takes its size, black. */
  resize(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext('2d', { alpha: false });
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, width, height);
    this.page.layout();
  }

  context() {
    if (!this.ctx) {
      this.ctx = this.canvas.getContext('2d', { alpha: false });
    }
    return this.ctx;
  }

  get width() {
    return this.canvas.width;
  }

  get height() {
    return this.canvas.height;
  }

  setReady(ready) {
    this.el.classList.toggle('waiting', !ready);
    if (ready) {
      this.setMessage(null);
    }
  }

  setMonitors(heads) {
    this.heads = heads;
  }

  setMessage(text) {
    this.message.textContent = text || '';
    this.message.hidden = !text;
  }

  /** CSS size of the canvas on the page. */
  setScale(scale) {
    this.scale = scale;
    this.canvas.style.width = `${Math.round(this.width * scale)}px`;
    this.canvas.style.height = `${Math.round(this.height * scale)}px`;
    this.placeCursor();
  }

  /** Surface pixel under a client point, clamped to the surface. */
  toSurface(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    const sx = r.width > 0 ? this.width / r.width : 1;
    const sy = r.height > 0 ? this.height / r.height : 1;
    return {
      x: Math.min(this.width - 1, Math.max(0, (clientX - r.left) * sx)),
      y: Math.min(this.height - 1, Math.max(0, (clientY - r.top) * sy)),
    };
  }

  // ------------------------------------------------------------------ guest cursor

  setCursorShape(shape) {
    this.cursor.shape = shape;
    this.cursor.css = null;
    if (shape) {
      const c = this.cursorCanvas;
      c.width = shape.width;
      c.height = shape.height;
      c.getContext('2d').putImageData(new ImageData(shape.rgba, shape.width, shape.height), 0, 0);
      if (shape.width <= MAX_CSS_CURSOR && shape.height <= MAX_CSS_CURSOR) {
        this.cursor.css = `url(${c.toDataURL('image/png')}) ${shape.hotX} ${shape.hotY}, default`;
      }
    }
    this.placeCursor();
  }

  moveCursor(x, y) {
    this.cursor.x = x;
    this.cursor.y = y;
    this.placeCursor();
  }

  setCursorVisible(visible) {
    this.cursor.visible = visible;
    this.placeCursor();
  }

  /**
   * CLIENT mouse mode: the local pointer takes the guest's shape (it is where the guest's is). SERVER mode:
   * the guest's pointer is drawn where the guest says, the local one stays plain.
   */
  placeCursor() {
    const c = this.cursor;
    const clientMode = this.page.mouseMode === MOUSE_MODE.CLIENT;
    const shown = c.visible && c.shape !== null;
    if (clientMode) {
      this.canvas.style.cursor = !shown ? 'none' : c.css || 'default';
    } else {
      this.canvas.style.cursor = 'default';
    }
    const overlay = shown && (!clientMode || !c.css);
    this.cursorCanvas.hidden = !overlay;
    if (overlay) {
      const s = this.scale;
      const st = this.cursorCanvas.style;
      st.left = `${this.canvas.offsetLeft + (c.x - c.shape.hotX) * s}px`;
      st.top = `${this.canvas.offsetTop + (c.y - c.shape.hotY) * s}px`;
      st.width = `${c.shape.width * s}px`;
      st.height = `${c.shape.height * s}px`;
    }
  }
}
