package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's multimedia clock (R9). The client's clock runs {@link #latencyMs()} behind the server's mm-time, which
 * stamps the frames (B19): a client that waits for a frame's time (spice-gtk) shows it that long after the server
 * read it. The latency starts at {@link MmTimeConfig#latency()}; a video report (STREAM_REPORT) with late frames
 * raises it at once by the lateness plus {@link #SAFETY_MARGIN_MS}, at first by at most {@link #MAX_RAISE_MS} (a
 * single spike of the path costs one frame, not seconds of a high latency); if the frames stamped after that raise
 * are late too, the lack is lasting and the next report raises by the whole lateness; reports with spare margin lower it again by half the spare, at most
 * {@link #MAX_LOWER_STEP_MS} per {@link #LOWER_AFTER_MS}; a thin margin without late frames is left alone. Late
 * frames are also seen without a report, from the acknowledgements of the display channel ({@link #frameDelivered}):
 * spice-gtk sends its reports only when its display socket has nothing left to read, which on a link the stream
 * saturates is seconds later or never, and every frame would be dropped as late meanwhile. Each change reaches the
 * client as MULTI_MEDIA_TIME. Thread-safe: reports come from the stream channels' executors, round
 * trips from the connections' loops.
 */
public final class SessionClock {

    private static final Logger LOG = LoggerFactory.getLogger(SessionClock.class);

    /** Margin a frame should still have when it reaches the client: absorbs jitter of the path and the client. */
    public static final int SAFETY_MARGIN_MS = 5;
    /** Smallest raise after late frames (the report shows only the last frame's margin, earlier ones were later). */
    public static final int MIN_RAISE_MS = 10;
    /** Largest raise per report. */
    public static final int MAX_RAISE_MS = 40;
    /** Largest step down at a time: frames already on their way lose that much margin. */
    public static final int MAX_LOWER_STEP_MS = 20;
    /** Time without late frames before each step down. */
    public static final long LOWER_AFTER_MS = 1000;
    /**
     * A report whose last frame was stamped longer ago than this beyond the ceiling is about a state of the path long
     * gone (spice-gtk held it back while its socket stayed readable): ignored.
     */
    public static final int STALE_REPORT_MS = 1000;

    private final MmTime mmTime;
    private final MmTimeConfig config;
    private final int minLatencyMs;
    private final int maxLatencyMs;
    private volatile int latencyMs;
    private volatile long changes;
    private volatile long staleReports;

    // guarded by this
    private RedChannelClient main;
    private String logContext = "session";
    /** Server mm-time from which frames are stamped under the current latency: older reports are no evidence. */
    private int settledAt;
    private long lastChangeNanos;
    private int minMarginMs = Integer.MAX_VALUE;
    private long mainRttNanos = -1;
    private long videoRttNanos = -1;
    private boolean ceilingLogged;
    /** The last change was a raise: lateness in a report about frames stamped since is no spike. */
    private boolean lastChangeRaised;

    SessionClock(MmTime mmTime, MmTimeConfig config) {
        this.mmTime = mmTime;
        this.config = config;
        this.minLatencyMs = (int) config.latency().toMillis();
        this.maxLatencyMs = (int) config.maxLatency().toMillis();
        this.latencyMs = minLatencyMs;
        this.settledAt = mmTime.now();
        this.lastChangeNanos = mmTime.nanos();
    }

    /** Current latency of the client's clock behind the frames' timestamps, in ms. */
    public int latencyMs() {
        return latencyMs;
    }

    /** How often the latency changed (MULTI_MEDIA_TIME sent). */
    public long changes() {
        return changes;
    }

    /** The policy this clock follows. */
    public MmTimeConfig config() {
        return config;
    }

    /** The client's mm-time now: what MAIN_INIT and MULTI_MEDIA_TIME carry. */
    public int clientTime() {
        return mmTime.now() - latencyMs;
    }

    /**
     * A client's report on a window of frames (STREAM_REPORT, spice-wire §9.7): how many arrived, how many were late
     * (margin below 0 on arrival), the margin of the last one in ms (positive: early), and the server mm-time stamp
     * of the last one. Reports of frames stamped before the last change are ignored: they show the old clock.
     */
    public synchronized void videoReport(int endFrameMmTime, long frames, long drops, int lastFrameMarginMs) {
        if (frames <= 0 || endFrameMmTime - settledAt < 0) {
            return;
        }
        if (mmTime.now() - endFrameMmTime > maxLatencyMs + STALE_REPORT_MS) {
            staleReports++;
            LOG.debug("{}: stale video report ignored (last frame stamped {} ms ago)", logContext,
                    mmTime.now() - endFrameMmTime);
            return;
        }
        long now = mmTime.nanos();
        if (drops > 0 || lastFrameMarginMs < 0) {
            raise(lastFrameMarginMs, now, drops + " of " + frames + " frames late");
            return;
        }
        maybeLower(lastFrameMarginMs, now);
    }

    private void maybeLower(int marginMs, long now) {
        minMarginMs = Math.min(minMarginMs, marginMs);
        int spare = minMarginMs - SAFETY_MARGIN_MS;
        int floor = floorMs();
        if (spare > 0 && latencyMs > floor && now - lastChangeNanos >= TimeUnit.MILLISECONDS.toNanos(LOWER_AFTER_MS)) {
            int target = Math.max(floor, latencyMs - Math.min(MAX_LOWER_STEP_MS, Math.max(1, spare / 2)));
            lastChangeRaised = false;
            change(target, now, "lowered: smallest margin " + minMarginMs + " ms");
        }
    }

    /**
     * A display client acknowledged a frame of this session (R10): {@code ageNanos} from the frame's stamp (its mm-time)
     * to the acknowledgement, {@code sinceStampNanos} from the stamp to now. The client had the frame about the
     * acknowledgement's way back before that, and its clock was set over the main channel, half a round trip late:
     * with the main channel's round trip for both, the frame's margin on arrival was about latency + round trip - age.
     * A negative margin raises the latency as a report with a late frame would, spare margin lowers it as a report's.
     */
    public synchronized void frameDelivered(long ageNanos, long sinceStampNanos) {
        if (ageNanos < 0 || sinceStampNanos < 0) {
            return;
        }
        int frameMmTime = mmTime.now() - (int) TimeUnit.NANOSECONDS.toMillis(sinceStampNanos);
        if (frameMmTime - settledAt < 0) {
            return;
        }
        long pathMs = mainRttNanos > 0 ? TimeUnit.NANOSECONDS.toMillis(mainRttNanos) : 0;
        long margin = latencyMs + pathMs - TimeUnit.NANOSECONDS.toMillis(ageNanos);
        int m = (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2, margin));
        if (m < 0) {
            raise(m, mmTime.nanos(), "a frame acknowledged late");
        } else {
            // Without it the latency only ratchets up where reports do not come (a saturated link).
            maybeLower(m, mmTime.nanos());
        }
    }

    /** Video reports ignored as stale ({@link #STALE_REPORT_MS}). */
    public long staleReports() {
        return staleReports;
    }

    /** A measured PING round trip of one of the session's connections. */
    synchronized void roundTrip(RedChannelClient rcc, long nanos) {
        if (rcc.channel().type() == SpiceChannelType.MAIN) {
            mainRttNanos = nanos;
        } else if (rcc.channel().type() == SpiceChannelType.DISPLAY) {
            videoRttNanos = nanos;
        }
    }

    /**
     * The lowest latency allowed now: the configured one, plus half of what the video path's round trip exceeds the
     * main channel's (the client's clock was set over main; frames take the display path).
     */
    synchronized int floorMs() {
        long skew = mainRttNanos > 0 && videoRttNanos > mainRttNanos ? (videoRttNanos - mainRttNanos) / 2 : 0;
        return (int) Math.min(maxLatencyMs, minLatencyMs + TimeUnit.NANOSECONDS.toMillis(skew));
    }

    synchronized void attachMain(RedChannelClient mainClient) {
        this.main = mainClient;
        this.logContext = mainClient.logContext();
    }

    private void raise(int lastFrameMarginMs, long now, String what) {
        // Late again after a raise (the evidence is about frames stamped since): a lasting lack, made up at once.
        long cap = lastChangeRaised ? Long.MAX_VALUE : MAX_RAISE_MS;
        int raise = (int) Math.min(cap, Math.max(MIN_RAISE_MS, (long) SAFETY_MARGIN_MS - lastFrameMarginMs));
        int target = (int) Math.min(maxLatencyMs, (long) latencyMs + raise);
        if (target > latencyMs) {
            lastChangeRaised = true;
            change(target, now, "raised: " + what + ", last margin " + lastFrameMarginMs + " ms");
        } else if (!ceilingLogged) {
            ceilingLogged = true;
            LOG.info("{}: frames still late at the latency ceiling of {} ms (last margin {} ms)", logContext,
                    maxLatencyMs, lastFrameMarginMs);
        }
    }

    private void change(int target, long now, String why) {
        latencyMs = target;
        changes++;
        lastChangeNanos = now;
        minMarginMs = Integer.MAX_VALUE;
        long settleMs = mainRttNanos > 0 ? TimeUnit.NANOSECONDS.toMillis(mainRttNanos) : 0;
        settledAt = mmTime.now() + (int) settleMs;
        LOG.debug("{}: mm-time latency {} ms ({})", logContext, target, why);
        RedChannelClient m = main;
        if (m != null) {
            ByteBuf body = m.alloc().buffer(4).writeIntLE(clientTime());
            m.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_MULTI_MEDIA_TIME, body));
        }
    }
}
