#!/usr/bin/python3
"""Connects spice-gtk (SpiceClientGLib) to a server, opens the display and cursor channels, waits until
N frames were shown (display-invalidate), saves the picture as PNG and prints what it saw as one flat
JSON object on stdout's last line. spice-gtk's own log goes to stderr/stdout earlier lines."""
import argparse
import ctypes
import json
import sys

import gi

gi.require_version("SpiceClientGLib", "2.0")
from gi.repository import GLib, GObject  # noqa: E402
from gi.repository import SpiceClientGLib as Spice  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--uri", required=True)
parser.add_argument("--password", default=None)
parser.add_argument("--frames", type=int, default=30)
parser.add_argument("--timeout", type=float, default=30)
parser.add_argument("--png", default=None)
parser.add_argument("--ca-file", default=None, help="PEM CA file for TLS channels (uri with tls-port=N)")
# With N > 1, wait until N display channels each showed --frames frames (multi-monitor); per-display counts are
# reported as display_<id>_* keys either way.
parser.add_argument("--displays", type=int, default=1)
# With S > 0: count the frames shown during S seconds from the first one (window_invalidates), then save the
# picture and finish; --frames is ignored.
parser.add_argument("--duration", type=float, default=0)
parser.add_argument("--proxy", default=None, help="http://HOST:PORT: connect through an HTTP CONNECT proxy")
args = parser.parse_args()

state = {
    "main_connected": False,
    "display_opened": False,
    "cursor_opened": False,
    "primary_width": 0,
    "primary_height": 0,
    "primary_creates": 0,
    "invalidates": 0,
    "cursor_sets": 0,
    "cursor_width": 0,
    "cursor_height": 0,
    "cursor_moves": 0,
    "error": "",
    "png": "",
}
primary = {"ptr": 0, "stride": 0, "width": 0, "height": 0}
per_display = {}  # channel id -> {"invalidates": n}
loop = GLib.MainLoop()


def finish(error=None):
    if error and not state["error"]:
        state["error"] = error
    loop.quit()


def save_png():
    if not args.png or not primary["ptr"]:
        return
    from PIL import Image

    raw = ctypes.string_at(primary["ptr"], primary["stride"] * primary["height"])
    image = Image.frombuffer("RGBX", (primary["width"], primary["height"]), raw, "raw", "BGRX",
                             primary["stride"], 1).convert("RGB")
    image.save(args.png)
    state["png"] = args.png


def channel_id(channel):
    return channel.get_property("channel-id")


def display_count(channel, key, value=None):
    prefix = "display_%d_" % channel_id(channel)
    if value is None:
        state[prefix + key] = state.get(prefix + key, 0) + 1
    else:
        state[prefix + key] = value
    return state[prefix + key]


def on_primary_create(channel, fmt, width, height, stride, shmid, imgdata):
    # The PNG shows the lowest display id that has a surface (the only one with a single display).
    if not primary["ptr"] or channel_id(channel) <= primary.get("id", 0):
        primary.update(ptr=imgdata, stride=stride, width=width, height=height, id=channel_id(channel))
    state["primary_width"] = width
    state["primary_height"] = height
    state["primary_creates"] += 1
    display_count(channel, "width", width)
    display_count(channel, "height", height)
    display_count(channel, "primary_creates")


def on_primary_destroy(channel):
    if primary.get("id", 0) == channel_id(channel):
        primary["ptr"] = 0


def end_window():
    state["window_invalidates"] = state["invalidates"] - window["start"]
    save_png()
    finish()
    return False


window = {"start": -1}


def on_invalidate(channel, x, y, w, h):
    state["invalidates"] += 1
    if args.duration > 0:
        if window["start"] < 0:
            window["start"] = state["invalidates"]
            GLib.timeout_add(int(args.duration * 1000), end_window)
        return
    per_display[channel_id(channel)] = display_count(channel, "invalidates")
    if args.displays > 1:
        done = len([n for n in per_display.values() if n >= args.frames]) >= args.displays
    else:
        done = state["invalidates"] >= args.frames
    if done and primary["ptr"]:
        save_png()
        finish()


def on_cursor_set(channel, width, height, hot_x, hot_y, rgba):
    state["cursor_sets"] += 1
    state["cursor_width"] = width
    state["cursor_height"] = height


def on_cursor_move(channel, x, y):
    state["cursor_moves"] += 1


def on_channel_event(channel, event):
    name = event.value_nick if hasattr(event, "value_nick") else str(event)
    if event == Spice.ChannelEvent.OPENED:
        if isinstance(channel, Spice.MainChannel):
            state["main_connected"] = True
        elif isinstance(channel, Spice.DisplayChannel):
            state["display_opened"] = True
            state["displays_opened"] = state.get("displays_opened", 0) + 1
        elif isinstance(channel, Spice.CursorChannel):
            state["cursor_opened"] = True
    elif event in (Spice.ChannelEvent.ERROR_AUTH, Spice.ChannelEvent.ERROR_CONNECT, Spice.ChannelEvent.ERROR_LINK,
                   Spice.ChannelEvent.ERROR_IO, Spice.ChannelEvent.ERROR_TLS):
        finish("%s: %s" % (type(channel).__name__, name))
    elif event == Spice.ChannelEvent.CLOSED and isinstance(channel, Spice.MainChannel):
        finish("main channel closed")


def on_channel_new(session, channel):
    GObject.Object.connect(channel, "channel-event", on_channel_event)
    if isinstance(channel, Spice.DisplayChannel):
        GObject.Object.connect(channel, "display-primary-create", on_primary_create)
        GObject.Object.connect(channel, "display-primary-destroy", on_primary_destroy)
        GObject.Object.connect(channel, "display-invalidate", on_invalidate)
        channel.connect()
    elif isinstance(channel, Spice.CursorChannel):
        GObject.Object.connect(channel, "cursor-set", on_cursor_set)
        GObject.Object.connect(channel, "cursor-move", on_cursor_move)
        channel.connect()


session = Spice.Session()
session.set_property("uri", args.uri)
if args.password is not None:
    session.set_property("password", args.password)
if args.ca_file is not None:
    session.set_property("ca-file", args.ca_file)
if args.proxy is not None:
    session.set_property("proxy", args.proxy)
GObject.Object.connect(session, "channel-new", on_channel_new)
GLib.timeout_add(int(args.timeout * 1000), lambda: finish("timeout after %ss" % args.timeout) or False)
if not session.connect():
    finish("session.connect() failed")
else:
    loop.run()
session.disconnect()
state["spice_gtk_version"] = getattr(Spice, "__version__", "") or ""
sys.stdout.write("\n" + json.dumps(state) + "\n")
sys.stdout.flush()
