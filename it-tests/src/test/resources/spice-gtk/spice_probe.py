#!/usr/bin/python3
"""spice-gtk probe for the spicestream end-to-end tests.

Connects to a SPICE server with spice-gtk's GObject bindings (no widget) and reports what it sees as
JSON, one object per line, on stdout. Every channel announced by the server is opened. When the
inputs channel is open it sends one key press + release (scancode 0x1e, 'A') and mouse motion.
Commands on stdin (one per line): "quit". The probe also quits on its own after --timeout seconds
or when the main channel fails.

usage: spice_probe.py HOST PORT [--password PW] [--timeout S]
"""
import argparse
import json
import sys

import gi

gi.require_version("SpiceClientGLib", "2.0")
from gi.repository import GLib, GObject, SpiceClientGLib  # noqa: E402

SCANCODE_A = 0x1E


def emit(**obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port")
    ap.add_argument("--password")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    loop = GLib.MainLoop()
    session = SpiceClientGLib.Session()
    session.set_property("host", args.host)
    session.set_property("port", str(args.port))
    if args.password is not None:
        session.set_property("password", args.password)
    keep = []  # channel objects must stay referenced

    def quit_later(code):
        emit(event="exit", code=code)
        session.disconnect()
        GLib.idle_add(loop.quit)

    def ident(channel):
        return channel.get_property("channel-type"), channel.get_property("channel-id")

    def on_event(channel, event):
        ctype, cid = ident(channel)
        nick = event.value_nick
        emit(event="channel-event", type=ctype, id=cid, what=nick)
        if ctype == 1 and nick.startswith("error"):
            quit_later(1)
        if ctype == 3 and nick == "opened":
            GLib.timeout_add(50, send_inputs, channel)

    def send_inputs(channel):
        channel.key_press(SCANCODE_A)
        channel.key_release(SCANCODE_A)
        for _ in range(3):
            channel.motion(5, -3, 0)
        emit(event="inputs-sent", scancode=SCANCODE_A, motion=[5, -3], count=3)
        return False

    def on_channel_new(sess, channel):
        keep.append(channel)
        ctype, cid = ident(channel)
        emit(event="channel-new", type=ctype, id=cid)
        GObject.Object.connect(channel, "channel-event", on_event)
        if ctype != 1:
            channel.connect()

    GObject.Object.connect(session, "channel-new", on_channel_new)

    def on_stdin(source, condition):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            quit_later(0)
            return False
        return True

    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_stdin)

    def on_timeout():
        emit(event="timeout")
        quit_later(2)
        return False

    GLib.timeout_add(int(args.timeout * 1000), on_timeout)
    emit(event="start", spice_gtk=SpiceClientGLib.util_get_version_string(), host=args.host, port=int(args.port))
    if not session.connect():
        emit(event="connect-failed")
        return 1
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
