#!/usr/bin/python3
"""spice-gtk (SpiceClientGLib through GObject introspection, no widget: the GStreamer appsink path and the built-in
MJPEG decoder) connected to a server: at every display update (display-invalidate, emitted right after a decoded
frame was drawn into the primary surface) it reads the frame number the picture carries as black/white blocks
(FrameNumberCode: 16 columns x 2 rows over the top band) and writes "NUMBER MONOTONIC_NS" to --out. time.monotonic_ns()
is CLOCK_MONOTONIC, the clock of Java's System.nanoTime() on Linux. The last stdout line is a JSON summary."""
import argparse
import ctypes
import json
import sys
import time

import gi

gi.require_version("SpiceClientGLib", "2.0")
from gi.repository import GLib, GObject  # noqa: E402
from gi.repository import SpiceClientGLib as Spice  # noqa: E402

BITS = 16
THRESHOLD = 128

parser = argparse.ArgumentParser()
parser.add_argument("--uri", required=True)
parser.add_argument("--password", default=None)
parser.add_argument("--out", required=True)
parser.add_argument("--duration", type=float, required=True, help="seconds to read after the first picture")
parser.add_argument("--timeout", type=float, default=60)
args = parser.parse_args()

state = {"invalidates": 0, "decoded": 0, "undecoded": 0, "first_ns": 0, "error": "", "width": 0, "height": 0,
         "mm_time_resets": 0}
primary = {"ptr": 0, "stride": 0, "width": 0, "height": 0}
draws = []
loop = GLib.MainLoop()


def finish(error=None):
    if error and not state["error"]:
        state["error"] = error
    loop.quit()


def luma(x, y):
    raw = ctypes.string_at(primary["ptr"] + y * primary["stride"] + x * 4, 3)  # B, G, R (X)
    return (299 * raw[2] + 587 * raw[1] + 114 * raw[0]) // 1000


def read_number():
    w, h = primary["width"], primary["height"]
    r = max(1, (h + 8) // 16)
    number = 0
    for c in range(BITS):
        x = (2 * c + 1) * w // (2 * BITS)
        bit = luma(x, r // 2) > THRESHOLD
        complement = luma(x, r + r // 2) > THRESHOLD
        if bit == complement:
            return -1
        number = number << 1 | (1 if bit else 0)
    return number


def on_primary_create(channel, fmt, width, height, stride, shmid, imgdata):
    primary.update(ptr=imgdata, stride=stride, width=width, height=height)
    state["width"], state["height"] = width, height


def on_primary_destroy(channel):
    primary["ptr"] = 0


def on_invalidate(channel, x, y, w, h):
    now = time.monotonic_ns()
    state["invalidates"] += 1
    if not primary["ptr"]:
        return
    n = read_number()
    if n < 0:
        state["undecoded"] += 1
        return
    state["decoded"] += 1
    draws.append((n, now))
    if not state["first_ns"]:
        state["first_ns"] = now
        GLib.timeout_add(int(args.duration * 1000), lambda: finish() or False)


def on_channel_event(channel, event):
    if event in (Spice.ChannelEvent.ERROR_AUTH, Spice.ChannelEvent.ERROR_CONNECT, Spice.ChannelEvent.ERROR_LINK,
                 Spice.ChannelEvent.ERROR_IO, Spice.ChannelEvent.ERROR_TLS):
        finish("%s: %s" % (type(channel).__name__, event.value_nick))
    elif event == Spice.ChannelEvent.CLOSED and isinstance(channel, Spice.MainChannel):
        finish("main channel closed")


def on_channel_new(session, channel):
    GObject.Object.connect(channel, "channel-event", on_channel_event)
    if isinstance(channel, Spice.DisplayChannel):
        GObject.Object.connect(channel, "display-primary-create", on_primary_create)
        GObject.Object.connect(channel, "display-primary-destroy", on_primary_destroy)
        GObject.Object.connect(channel, "display-invalidate", on_invalidate)
        channel.connect()


def on_mm_time_reset(session):
    state["mm_time_resets"] += 1


session = Spice.Session()
session.set_property("uri", args.uri)
if args.password is not None:
    session.set_property("password", args.password)
GObject.Object.connect(session, "channel-new", on_channel_new)
GObject.Object.connect(session, "mm-time-reset", on_mm_time_reset)
GLib.timeout_add(int(args.timeout * 1000), lambda: finish("timeout after %ss" % args.timeout) or False)
if not session.connect():
    finish("session.connect() failed")
else:
    loop.run()
session.disconnect()
with open(args.out, "w") as f:
    for n, t in draws:
        f.write("%d %d\n" % (n, t))
sys.stdout.write("\n" + json.dumps(state) + "\n")
sys.stdout.flush()
