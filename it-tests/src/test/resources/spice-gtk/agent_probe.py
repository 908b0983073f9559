#!/usr/bin/python3
"""spice-gtk guest-agent probe for the spicestream end-to-end tests.

Connects the main channel with spice-gtk's GObject bindings (no widget) and drives the guest agent through it: the
clipboard in both directions and the monitor configuration. Reports JSON objects, one per line, on stdout.

Commands on stdin, one per line:
  grab FILE            the client grabs the clipboard (UTF8_TEXT); when the guest asks, it gets FILE's bytes
  request FILE         ask the guest for its clipboard (UTF8_TEXT) and write what comes to FILE
  release              the client releases the clipboard
  monitor W H          send a monitor configuration of one W x H monitor
  quit

Events: start, channel-event, agent (connected, capabilities), guest-grab, guest-release, guest-request, answered,
clipboard (size, sha256 of the data written to FILE), monitor-sent, exit.

usage: agent_probe.py HOST PORT [--timeout S]
"""
import argparse
import ctypes
import hashlib
import json
import sys
import time

import gi

gi.require_version("SpiceClientGLib", "2.0")
from gi.repository import GLib, GObject, SpiceClientGLib  # noqa: E402

SELECTION_CLIPBOARD = 0
UTF8_TEXT = 1
CAP_CLIPBOARD_BY_DEMAND = 5
CAP_CLIPBOARD_SELECTION = 6
CAP_MONITORS_CONFIG = 1


def emit(**obj):
    obj["t"] = round(time.monotonic(), 4)  # seconds, for the tests' timings
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()

    loop = GLib.MainLoop()
    session = SpiceClientGLib.Session()
    session.set_property("host", args.host)
    session.set_property("port", str(args.port))
    state = {"main": None, "grab_data": None, "request_file": None}

    def quit_later(code):
        emit(event="exit", code=code)
        session.disconnect()
        GLib.idle_add(loop.quit)

    def on_event(channel, event):
        nick = event.value_nick
        emit(event="channel-event", type=channel.get_property("channel-type"), what=nick)
        if nick.startswith("error"):
            quit_later(1)

    def on_agent_update(main):
        emit(event="agent", connected=main.get_property("agent-connected"),
             by_demand=main.agent_test_capability(CAP_CLIPBOARD_BY_DEMAND),
             selection=main.agent_test_capability(CAP_CLIPBOARD_SELECTION),
             monitors=main.agent_test_capability(CAP_MONITORS_CONFIG))

    def on_guest_grab(main, selection, types, ntypes):
        emit(event="guest-grab", selection=selection, types=list(types)[:ntypes])
        return True

    def on_guest_release(main, selection):
        emit(event="guest-release", selection=selection)

    def on_guest_request(main, selection, dtype):
        emit(event="guest-request", selection=selection, type=dtype)
        data = state["grab_data"]
        if data is None or dtype != UTF8_TEXT:
            return False
        main.clipboard_selection_notify(selection, dtype, data)
        emit(event="answered", size=len(data))
        return True

    def on_clipboard(main, selection, dtype, data, size):
        raw = ctypes.string_at(data, size) if size else b""
        target = state["request_file"]
        if target is not None:
            with open(target, "wb") as f:
                f.write(raw)
        emit(event="clipboard", selection=selection, type=dtype, size=size,
             sha256=hashlib.sha256(raw).hexdigest())

    def on_channel_new(sess, channel):
        GObject.Object.connect(channel, "channel-event", on_event)
        if channel.get_property("channel-type") == 1:
            state["main"] = channel
            GObject.Object.connect(channel, "main-agent-update", on_agent_update)
            GObject.Object.connect(channel, "main-clipboard-selection-grab", on_guest_grab)
            GObject.Object.connect(channel, "main-clipboard-selection-release", on_guest_release)
            GObject.Object.connect(channel, "main-clipboard-selection-request", on_guest_request)
            GObject.Object.connect(channel, "main-clipboard-selection", on_clipboard)

    GObject.Object.connect(session, "channel-new", on_channel_new)

    def command(line):
        parts = line.split()
        main = state["main"]
        if not parts:
            return
        if parts[0] == "quit":
            quit_later(0)
        elif parts[0] == "grab":
            with open(parts[1], "rb") as f:
                state["grab_data"] = f.read()
            main.clipboard_selection_grab(SELECTION_CLIPBOARD, [UTF8_TEXT])
            emit(event="client-grabbed", size=len(state["grab_data"]))
        elif parts[0] == "request":
            state["request_file"] = parts[1]
            main.clipboard_selection_request(SELECTION_CLIPBOARD, UTF8_TEXT)
            emit(event="requested")
        elif parts[0] == "release":
            state["grab_data"] = None
            main.clipboard_selection_release(SELECTION_CLIPBOARD)
            emit(event="client-released")
        elif parts[0] == "monitor":
            w, h = int(parts[1]), int(parts[2])
            main.update_display_enabled(0, True, False)
            main.update_display(0, 0, 0, w, h, False)
            ok = main.send_monitor_config()
            emit(event="monitor-sent", width=w, height=h, ok=bool(ok))
        else:
            emit(event="unknown-command", line=line)

    def on_stdin(source, condition):
        line = sys.stdin.readline()
        if not line:
            quit_later(0)
            return False
        try:
            command(line.strip())
        except Exception as e:  # report, keep running: the test decides
            emit(event="command-failed", line=line.strip(), error=str(e))
        return True

    GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_stdin)

    def on_timeout():
        emit(event="timeout")
        quit_later(2)
        return False

    GLib.timeout_add(int(args.timeout * 1000), on_timeout)
    emit(event="start", spice_gtk=SpiceClientGLib.util_get_version_string())
    if not session.connect():
        emit(event="connect-failed")
        return 1
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
