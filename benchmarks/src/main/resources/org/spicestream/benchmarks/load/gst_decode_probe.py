#!/usr/bin/python3
"""A standalone copy of spice-gtk 0.42's GStreamer decoding pipeline for a stream (channel-display-gst.c, appsink
path): playbin uri=appsrc://, the appsrc is-live=true format=time block=true max-bytes=0 with caps "video/x-h264"
(or "video/x-h265"),
the video sink an appsink (BGRx, sync=false, drop=false, max-buffers=2), audio and text off. It is fed one access
unit per buffer at a fixed rate, stamped like spice-gtk (PTS = pipeline running time + margin), and records for
every decoded sample: the time from the push to the sample at the appsink, and how many later access units had been
pushed by then ("held": 0 = the decoder gave the picture back before it got the next one). It also asks the decoder
what it was told by upstream (live?) and what latency it reports (frame threading adds thread_count frames).
Variants change one thing: --live, --max-threads, --thread-type, --caps. Last stdout line: a JSON summary."""
import argparse
import json
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--frames-file", required=True,
                    help="access units, each as a 4-byte big-endian length and the Annex B bytes (one SPICE frame each)")
parser.add_argument("--codec", default="h264", choices=["h264", "h265"])
parser.add_argument("--fps", type=float, default=30)
parser.add_argument("--frames", type=int, default=300, help="access units to push (the file is looped)")
parser.add_argument("--warmup", type=int, default=30, help="first samples left out of the figures")
parser.add_argument("--margin-ms", type=int, default=10, help="added to the PTS, as spice-gtk adds the frame's margin")
parser.add_argument("--live", default="true", choices=["true", "false"], help="appsrc is-live (spice-gtk: true)")
parser.add_argument("--caps", default=None, help="appsrc caps (spice-gtk 0.42: video/x-h264 or video/x-h265)")
parser.add_argument("--max-threads", type=int, default=None, help="set on the H.264 decoder (avdec_h264) if given")
parser.add_argument("--thread-type", default=None, choices=["auto", "frame", "slice"],
                    help="set on avdec_h264 if given (auto = gst-libav's choice from the upstream latency query)")
parser.add_argument("--h264-tail", default="none", choices=["none", "aud-sei"],
                    help="aud-sei: what a server could do to an H.264 frame so that a parser that finds access units "
                         "by their start sees the next one begin: drop the leading delimiter, end the frame with an "
                         "access unit delimiter and an SEI (user data unregistered)")
args = parser.parse_args()
if args.caps is None:
    args.caps = "video/x-" + args.codec

Gst.init(None)



def access_units(data):
    out = []
    i = 0
    while i + 4 <= len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    if not out:
        sys.exit("no access units in " + args.frames_file)
    return out


with open(args.frames_file, "rb") as f:
    units = access_units(f.read())

AUD = b"\x00\x00\x00\x01\x09\xf0"
SEI_USER_DATA = b"\x00\x00\x00\x01\x06\x05\x10" + b"spicestream-tail" + b"\x80"
if args.h264_tail == "aud-sei":
    units = [(u[len(AUD):] if u.startswith(AUD[:5]) else u) + AUD + SEI_USER_DATA for u in units]

REFERENCE = Gst.Caps.from_string("timestamp/spice-stream")
lock = threading.Lock()
pushed = {}  # pts -> (index, push ns)
push_count = [0]
samples = []  # (index, latency ns, held)
unmatched = [0]
elements = []
decoder = {}
state = {"error": ""}

playbin = Gst.ElementFactory.make("playbin", "playbin")
sink = Gst.ElementFactory.make("appsink", "sink")
sink.set_property("caps", Gst.Caps.from_string("video/x-raw,format=BGRx"))
sink.set_property("sync", False)
sink.set_property("drop", False)
sink.set_property("max-buffers", 2)
sink.set_property("emit-signals", True)
playbin.set_property("video-sink", sink)
playbin.set_property("flags", playbin.get_property("flags") & ~((1 << 1) | (1 << 2)))  # no audio, no text
appsrc = {}


def on_source_setup(_playbin, source):
    source.set_property("caps", Gst.Caps.from_string(args.caps))
    source.set_property("is-live", args.live == "true")
    source.set_property("format", Gst.Format.TIME)
    source.set_property("max-bytes", 0)
    source.set_property("block", True)
    appsrc["src"] = source


def on_deep_element_added(_bin, _sub, element):
    factory = element.get_factory()
    name = factory.get_name() if factory else element.get_name()
    elements.append(name)
    klass = factory.get_metadata("klass") if factory else ""
    if "Decoder" in klass and "Video" in klass:
        decoder["element"] = element
        decoder["name"] = name
        if name.startswith("avdec_"):
            if args.max_threads is not None:
                element.set_property("max-threads", args.max_threads)
            if args.thread_type is not None:
                element.set_property("thread-type", {"auto": 0, "frame": 1, "slice": 2}[args.thread_type])


def on_new_sample(appsink):
    sample = appsink.emit("pull-sample")
    now = time.monotonic_ns()
    if sample is None:
        return Gst.FlowReturn.OK
    buffer = sample.get_buffer()
    meta = buffer.get_reference_timestamp_meta(REFERENCE)
    pts = meta.timestamp if meta is not None else buffer.pts  # spice-gtk matches frames the same way
    with lock:
        entry = pushed.pop(pts, None)
        count = push_count[0]
    if entry is None:
        unmatched[0] += 1
    else:
        index, t = entry
        samples.append((index, now - t, count - 1 - index))
    return Gst.FlowReturn.OK


def on_message(_bus, message):
    if message.type == Gst.MessageType.ERROR:
        err, _dbg = message.parse_error()
        state["error"] = "%s: %s" % (message.src.get_name(), err.message)
        loop.quit()
    return True


playbin.connect("source-setup", on_source_setup)
playbin.connect("deep-element-added", on_deep_element_added)
sink.connect("new-sample", on_new_sample)
playbin.set_property("uri", "appsrc://")
bus = playbin.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
loop = GLib.MainLoop()


def pusher():
    clock = playbin.get_clock()
    while clock is None:
        time.sleep(0.01)
        clock = playbin.get_clock()
    interval = 1e9 / args.fps
    t0 = time.monotonic_ns()
    for i in range(args.frames):
        due = t0 + int(i * interval)
        delay = due - time.monotonic_ns()
        if delay > 0:
            time.sleep(delay / 1e9)
        pts = clock.get_time() - playbin.get_base_time() + args.margin_ms * Gst.MSECOND
        buf = Gst.Buffer.new_wrapped(units[i % len(units)])
        buf.pts = pts
        buf.dts = Gst.CLOCK_TIME_NONE
        buf.duration = Gst.CLOCK_TIME_NONE
        buf.add_reference_timestamp_meta(REFERENCE, pts, Gst.CLOCK_TIME_NONE)
        with lock:
            pushed[pts] = (i, time.monotonic_ns())
            push_count[0] = i + 1
        if appsrc["src"].emit("push-buffer", buf) != Gst.FlowReturn.OK:
            state["error"] = "push-buffer failed at %d" % i
            break
    time.sleep(0.5)  # what is still in the decoder then is what it holds
    GLib.idle_add(loop.quit)


playbin.set_state(Gst.State.PLAYING)
while "src" not in appsrc:
    GLib.MainContext.default().iteration(True)
threading.Thread(target=pusher, daemon=True).start()
loop.run()

variant = "codec=%s live=%s caps=%s max_threads=%s thread_type=%s h264_tail=%s" % (
    args.codec, args.live, args.caps, args.max_threads, args.thread_type, args.h264_tail)
report = {"variant": variant, "error": state["error"], "elements": " ".join(elements),
          "decoder": decoder.get("name", ""), "pushed": push_count[0], "decoded": len(samples),
          "unmatched": unmatched[0], "not_out_at_end": len(pushed)}
dec = decoder.get("element")
if dec is not None:
    q = Gst.Query.new_latency()
    if dec.get_static_pad("sink").peer_query(q):
        live, lo, hi = q.parse_latency()
        report["upstream_live"] = live
        upstream = lo
    else:
        upstream = None
    q = Gst.Query.new_latency()
    if dec.get_static_pad("src").query(q) and upstream is not None:
        live, lo, hi = q.parse_latency()
        report["decoder_reported_latency_ms"] = round((lo - upstream) / 1e6, 2)
playbin.set_state(Gst.State.NULL)
kept = [s for s in samples if s[0] >= args.warmup]
if kept:
    lat = sorted(s[1] / 1e6 for s in kept)
    held = [s[2] for s in kept]

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))], 2)

    report.update(push_p50_ms=pct(50), push_p90_ms=pct(90), push_p99_ms=pct(99), push_max_ms=round(lat[-1], 2),
                  held=" ".join("%d:%d" % (h, held.count(h)) for h in sorted(set(held))))
sys.stdout.write(json.dumps(report) + "\n")
