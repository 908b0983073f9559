#!/usr/bin/python3
"""Reads the frame number (FrameNumberCode blocks) a viewer window shows on an X display, polling the root window's
pixels (Gdk.pixbuf_get_from_window, two 1-pixel rows per poll). Each time the number changes it writes
"NUMBER MONOTONIC_NS" to --out, the time being the middle of the interval in which the change happened (from the
start of the previous poll to the end of this one). First it finds where the picture is: the number must read
the same in three polls at one offset. The last stdout line is a JSON summary."""
import argparse
import json
import sys
import time

import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402

BITS = 16
THRESHOLD = 128

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--width", type=int, required=True, help="stream width (the picture is shown 1:1)")
parser.add_argument("--height", type=int, required=True)
parser.add_argument("--duration", type=float, required=True, help="seconds to read after the picture was found")
parser.add_argument("--timeout", type=float, default=60, help="seconds to find the picture")
parser.add_argument("--interval", type=float, default=0.001, help="pause between polls, seconds")
args = parser.parse_args()

W, H = args.width, args.height
R = max(1, (H + 8) // 16)
XS = [(2 * c + 1) * W // (2 * BITS) for c in range(BITS)]
YS = [R // 2, R + R // 2]
state = {"polls": 0, "changes": 0, "undecoded_polls": 0, "x0": -1, "y0": -1, "error": "", "resolution_ms": 0.0}

display = Gdk.Display.get_default()
if display is None:
    state["error"] = "no X display"
    sys.stdout.write("\n" + json.dumps(state) + "\n")
    sys.exit(0)
root = Gdk.get_default_root_window()
SW, SH = root.get_width(), root.get_height()


def row(x0, y, width):
    pb = Gdk.pixbuf_get_from_window(root, x0, y, width, 1)
    if pb is None:
        return None, 0
    return pb.get_pixels(), pb.get_n_channels()


def decode(rows, x0):
    """rows: two (pixels, channels) rows, each starting at x0."""
    number = 0
    for c in range(BITS):
        bits = []
        for pixels, n in rows:
            i = (XS[c]) * n
            r, g, b = pixels[i], pixels[i + 1], pixels[i + 2]
            bits.append((299 * r + 587 * g + 114 * b) // 1000 > THRESHOLD)
        if bits[0] == bits[1]:
            return -1
        number = number << 1 | (1 if bits[0] else 0)
    return number


def read_at(x0, y0):
    rows = [row(x0, y0 + y, W) for y in YS]
    if any(p is None for p, _ in rows):
        return -1
    return decode(rows, x0)


def find_picture():
    """The offset at which the code reads, scanning a full-screen grab."""
    pb = Gdk.pixbuf_get_from_window(root, 0, 0, SW, SH)
    if pb is None:
        return None
    pixels, n, stride = pb.get_pixels(), pb.get_n_channels(), pb.get_rowstride()

    def decode_full(x0, y0):
        number = 0
        for c in range(BITS):
            bits = []
            for y in YS:
                i = (y0 + y) * stride + (x0 + XS[c]) * n
                bits.append((299 * pixels[i] + 587 * pixels[i + 1] + 114 * pixels[i + 2]) // 1000 > THRESHOLD)
            if bits[0] == bits[1]:
                return -1
            number = number << 1 | (1 if bits[0] else 0)
        return number

    for y0 in range(0, SH - H + 1):
        for x0 in range(0, SW - W + 1):
            if decode_full(x0, y0) >= 0:
                return x0, y0
    return None


deadline = time.monotonic() + args.timeout
found = None
while found is None and time.monotonic() < deadline:
    candidate = find_picture()
    if candidate is not None and all(read_at(*candidate) >= 0 for _ in range(3)):
        found = candidate
    else:
        time.sleep(0.1)
if found is None:
    state["error"] = "no frame number on the screen within %ss" % args.timeout
    sys.stdout.write("\n" + json.dumps(state) + "\n")
    sys.exit(0)
x0, y0 = found
state["x0"], state["y0"] = x0, y0

draws = []
last = -2
end = time.monotonic_ns() + int(args.duration * 1e9)
prev_start = time.monotonic_ns()
total_span = 0
while True:
    start = time.monotonic_ns()
    if start > end:
        break
    n = read_at(x0, y0)
    stop = time.monotonic_ns()
    state["polls"] += 1
    total_span += stop - prev_start
    if n < 0:
        state["undecoded_polls"] += 1
    elif n != last:
        draws.append((n, (prev_start + stop) // 2))
        state["changes"] += 1
        last = n
    prev_start = start
    time.sleep(args.interval)
if state["polls"]:
    state["resolution_ms"] = total_span / state["polls"] / 1e6
with open(args.out, "w") as f:
    for n, t in draws:
        f.write("%d %d\n" % (n, t))
sys.stdout.write("\n" + json.dumps(state) + "\n")
sys.stdout.flush()
