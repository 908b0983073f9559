package org.spicestream.streamchannel;

import static org.spicestream.streamchannel.internal.DisplayMessages.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.MmTime;
import org.spicestream.reds.OutgoingMessage;
import org.spicestream.reds.RedChannel;
import org.spicestream.reds.RedChannelClient;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.streamchannel.internal.DisplayMessages;
import org.spicestream.streamchannel.internal.KeyFrames;

/**
 * The display channel that carries one guest stream to its clients (B25–B38 with R1's per-client gating).
 * All state is confined to the feeding device's executor; client events hop onto it.
 */
public final class StreamChannel extends RedChannel {

    private static final Logger LOG = LoggerFactory.getLogger(StreamChannel.class);

    /** Stream ids cycle through 0..49 (B29). */
    public static final int NUM_STREAMS = 50;
    /** Largest client message body on this channel (B36). */
    public static final int MAX_CLIENT_MESSAGE_SIZE = 1024;
    /** STREAM_ACTIVATE_REPORT values (B31). */
    static final int REPORT_UNIQUE_ID = 1;
    static final int REPORT_MAX_WINDOW = 5;
    static final int REPORT_TIMEOUT_MS = 1000;
    /** The only surface. */
    static final int SURFACE_ID = 0;
    /**
     * The ACK window a display client is asked for: it acknowledges every message, so the server knows for each
     * frame when it reached the client (R10; the reference asks for 20). The bound on unacknowledged messages stays
     * twice the configured window.
     */
    public static final int ACK_WINDOW = 1;
    /** Frames a client may have in flight (sent, not acknowledged) before its time per frame is known. */
    public static final int INITIAL_FRAMES_IN_FLIGHT = 2;
    /** Most frames a client may have in flight however fast it is. */
    public static final int MAX_FRAMES_IN_FLIGHT = 32;
    /**
     * Frames a client may take beyond its budget while nobody can take more: those the guest wrote before the pause
     * reached it. The client paces the guest instead of skipping them (an inter codec would need a key frame).
     */
    public static final int PACING_SLACK_FRAMES = 2;
    /**
     * How long before a slow MJPEG viewer that paces the guest is expected to acknowledge its frame the guest is read
     * again (issue 13). The frame the guest wrote when it was paused waited there for the whole of the viewer's
     * interval; read ahead of the acknowledgement, such frames are skipped while the viewer is still busy and the
     * viewer gets the first one the guest writes once it is ready. About one frame interval of a 60 fps stream.
     */
    public static final long PACING_READ_AHEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Weight of a new sample in a client's averaged interval between acknowledgements (1 / 4). */
    private static final int ACK_INTERVAL_EWMA_SHIFT = 2;

    private final EventExecutor executor;
    private final MmTime mmTime;
    private final StreamChannelConfig config;
    private final StreamChannelListener listener;
    private final String deviceName;

    private final List<Client> clients = new ArrayList<>();
    private int width;
    private int height;
    private VideoCodec codec;
    private int streamId = -1;
    private int lastMmTime;
    private boolean pausedForClients;
    private final long maxVideoAgeNanos;
    private long restartRequestedAt;
    private boolean restartRequested;
    /** The guest read ahead of a pacing viewer's acknowledgement until then ({@link #PACING_READ_AHEAD_NANOS}). */
    private long readAheadUntil;
    private boolean readingAhead;
    private ScheduledFuture<?> readAheadTimer;

    private final LongAdder framesIn = new LongAdder();
    private final LongAdder framesDropped = new LongAdder();

    public StreamChannel(String deviceName, EventExecutor executor, MmTime mmTime, StreamChannelConfig config,
            StreamChannelListener listener) {
        super(SpiceChannelType.DISPLAY);
        this.deviceName = deviceName;
        this.executor = executor;
        this.mmTime = mmTime;
        this.config = config;
        this.listener = listener;
        this.maxVideoAgeNanos = config.maxVideoAge().toNanos();
    }

    // ------------------------------------------------------------------ device side (on executor)

    /** Guest FORMAT: a new stream replaces the current one (B27, B29). */
    public void startStream(Format format) {
        assert executor.inEventLoop();
        boolean resized = format.width() != width || format.height() != height;
        int oldWidth = width;
        width = format.width();
        height = format.height();
        codec = format.codec();
        streamId = (streamId + 1) % NUM_STREAMS;
        cancelReadAhead(); // frames of the new stream are not skipped for a prediction made on the old one
        LOG.info("{}: stream {} {}x{} {}", name(), streamId, width, height, codec);
        for (Client c : clients) {
            destroyClientStream(c);
            if (resized) {
                if (oldWidth != 0) {
                    send(c, MSG_SURFACE_DESTROY, surfaceDestroy(c.alloc(), SURFACE_ID));
                }
                sendSurface(c, false);
            }
            createClientStream(c);
        }
    }

    /**
     * Guest DATA: one frame to every client that knows the stream, is not waiting for a key frame and can take it
     * while it is fresh (R10). Owns data.
     */
    public void sendFrame(Data data) {
        assert executor.inEventLoop();
        try {
            framesIn.increment();
            ByteBuf frame = data.content();
            if (streamId < 0 || !frame.isReadable() || clients.isEmpty()) {
                return; // B16: no stream, empty frame, or nobody to show it to
            }
            int frameTime = frameMmTime(data.arrivalNanos());
            boolean key = KeyFrames.isKeyFrame(codec.wireValue(), frame);
            long now = System.nanoTime();
            // Who takes the frame, and whether anyone can take it at once: if nobody can, the guest is paced
            // (paused) and the frames it wrote before noticing still go out within a small slack.
            boolean anyReady = false;
            for (Client c : clients) {
                c.takes = c.streamId == streamId && (key || !c.waitingForKeyFrame);
                if (c.streamId == streamId && c.waitingForKeyFrame && !key) {
                    maybeRestart(c, now, false);
                }
                if (c.takes) {
                    // Without an age bound only the queue's own bounds stop a frame (trySendFrame refuses it).
                    c.blocked = maxVideoAgeNanos > 0 && c.isBlocked(now, maxVideoAgeNanos);
                    anyReady |= !c.blocked;
                }
            }
            for (Client c : clients) {
                if (!c.takes) {
                    continue;
                }
                if (c.blocked && (anyReady || readingAhead || !c.withinPacingSlack(now, maxVideoAgeNanos))) {
                    // R10: this client cannot take the frame while it is fresh; it skips to the next key frame,
                    // which an inter codec asks the guest for (at most once per key-frame wait).
                    dropFrame(c, now, "not fresh");
                    if (codec != VideoCodec.MJPEG) {
                        // A client that has not acknowledged a frame yet is still starting (spice-gtk builds its
                        // decoder at the first frame): it waits for the guest's own key frame, up to the key-frame
                        // wait, as a late joiner does, instead of restarting the stream for everybody.
                        maybeRestart(c, now, c.rcc.lastDeliveredFrameNanos() != Long.MIN_VALUE);
                    }
                    continue;
                }
                c.waitingForKeyFrame = false;
                ByteBuf head = c.sized
                        ? streamDataSizedHead(c.alloc(), streamId, frameTime, width, height, frame.readableBytes())
                        : streamDataHead(c.alloc(), streamId, frameTime, frame.readableBytes());
                int type = c.sized ? MSG_STREAM_DATA_SIZED : MSG_STREAM_DATA;
                if (c.rcc.trySendFrame(new OutgoingMessage(type, head, frame.retainedDuplicate()), data.arrivalNanos())) {
                    c.framesSent++;
                    readingAhead = false; // the viewer read ahead for has its fresh frame
                } else {
                    // Queue full: skip frames until the next key frame, which the client can decode on its own.
                    dropFrame(c, now, "queue full");
                }
            }
            if (readingAhead && now - readAheadUntil >= 0) {
                readingAhead = false; // the acknowledgement did not come when expected: pace the guest again
            }
            if (!pausedForClients && !readingAhead && allBlocked(now)) {
                pausedForClients = true;
                LOG.debug("{}: no client can take more frames: pausing the guest", name());
                listener.backPressure(true);
                scheduleReadAhead(now);
            }
        } finally {
            data.release();
        }
    }

    private void dropFrame(Client c, long now, String why) {
        c.framesDropped++;
        framesDropped.increment();
        c.startWaiting(now);
        LOG.debug("{}: frame dropped ({}); waiting for a key frame", c.rcc.logContext(), why);
    }

    /** True when no client can take another frame now: the guest is then paced rather than read ahead. */
    private boolean allBlocked(long now) {
        for (Client c : clients) {
            if (!c.isBlocked(now, maxVideoAgeNanos)) {
                return false;
            }
        }
        return true;
    }

    /** Guest port opened or closed (B33): clients lose the stream and surface; the device then restarts it. */
    public void reset() {
        assert executor.inEventLoop();
        for (Client c : clients) {
            destroyClientStream(c);
            if (width != 0) {
                send(c, MSG_SURFACE_DESTROY, surfaceDestroy(c.alloc(), SURFACE_ID));
            }
        }
        streamId = -1;
        width = 0;
        height = 0;
        codec = null;
        resumeIfPaused();
    }

    /** The codecs every connected client decodes: MJPEG always, ascending; empty with no client (B24). */
    public List<VideoCodec> commonCodecs() {
        if (clients.isEmpty()) {
            return List.of();
        }
        Set<VideoCodec> common = EnumSet.allOf(VideoCodec.class);
        for (Client c : clients) {
            common.retainAll(c.codecs);
        }
        common.add(VideoCodec.MJPEG);
        return List.copyOf(common); // EnumSet iterates in wire-value order
    }

    /** The current stream's codec, or {@code null}. */
    public VideoCodec currentCodec() {
        return streamId < 0 ? null : codec;
    }

    public int clientCount() {
        return clients.size();
    }

    public long framesIn() {
        return framesIn.sum();
    }

    /** Frames refused by a full client queue, all clients together. */
    public long framesDropped() {
        return framesDropped.sum();
    }

    /** Per-client counters, for metrics. */
    public List<ClientStats> clientStats() {
        List<ClientStats> stats = new ArrayList<>();
        for (Client c : clients) {
            stats.add(new ClientStats(c.rcc.logContext(), c.framesSent, c.framesDropped, c.rcc.queuedBytes(),
                    c.rcc.roundTripNanos(), c.lastReport, c.rcc.session().clock().latencyMs()));
        }
        return stats;
    }

    /** Counters of one client; {@code mmTimeLatencyMs} is its session's clock latency (R9). */
    public record ClientStats(String client, long framesSent, long framesDropped, long queuedBytes,
            long roundTripNanos, StreamReport lastReport, int mmTimeLatencyMs) {}

    // ------------------------------------------------------------------ core side (on the rcc's loop)

    @Override
    protected int[] channelCaps() {
        return new int[] {CAP_MONITORS_CONFIG, CAP_STREAM_REPORT, CAP_PREF_VIDEO_CODEC_TYPE};
    }

    @Override
    protected boolean usesAckWindow() {
        return true;
    }

    @Override
    protected int ackWindow(int configured) {
        return ACK_WINDOW;
    }

    @Override
    protected int maxClientMessageSize(int msgType) {
        return switch (msgType) {
            case MSGC_INIT, MSGC_STREAM_REPORT, MSGC_PREFERRED_COMPRESSION, MSGC_PREFERRED_VIDEO_CODEC_TYPE,
                    MSGC_GL_DRAW_DONE -> MAX_CLIENT_MESSAGE_SIZE;
            default -> -1;
        };
    }

    @Override
    protected void onConnect(RedChannelClient rcc) {
        executor.execute(() -> connect(rcc));
    }

    @Override
    protected void onDisconnect(RedChannelClient rcc) {
        executor.execute(() -> disconnect(rcc));
    }

    @Override
    protected void onMessage(RedChannelClient rcc, int msgType, ByteBuf body) {
        switch (msgType) {
            case MSGC_STREAM_REPORT -> {
                if (body.readableBytes() < STREAM_REPORT_SIZE) {
                    rcc.disconnect("STREAM_REPORT of " + body.readableBytes() + " bytes");
                    return;
                }
                StreamReport report = DisplayMessages.parseStreamReport(body);
                executor.execute(() -> report(rcc, report));
            }
            case MSGC_GL_DRAW_DONE -> rcc.disconnect("GL_DRAW_DONE on a stream channel"); // B36
            default -> {
                // INIT, PREFERRED_COMPRESSION, PREFERRED_VIDEO_CODEC_TYPE: accepted; the list ignores preferences (B24)
            }
        }
    }

    private void connect(RedChannelClient rcc) {
        if (!rcc.isConnected()) {
            return;
        }
        Client c = new Client(rcc);
        clients.add(c);
        rcc.setDrainListener(this::clientDrained, executor);
        rcc.setDeliveryListener(() -> delivered(c), executor);
        LOG.info("{}: client joined (codecs {}, {} clients)", rcc.logContext(), c.codecs, clients.size());
        send(c, MSG_INVAL_ALL_PALETTES, empty(c.alloc()));
        if (width != 0) {
            sendSurface(c, true);
        }
        if (streamId >= 0 && c.codecs.contains(codec)) {
            // R1: a late joiner is told about the running stream at once. One that cannot decode it gets the
            // stream the guest restarts with (announceCodecs asks for the restart).
            createClientStream(c);
        }
        // The guest may be paused for viewers that stopped reading: this one can take frames.
        clientDrained();
        announceCodecs();
    }

    private void disconnect(RedChannelClient rcc) {
        if (!clients.removeIf(c -> c.rcc == rcc)) {
            return;
        }
        LOG.info("{}: client left ({} remain)", rcc.logContext(), clients.size());
        if (clients.isEmpty()) {
            // B35: nobody left to show the stream to; the device stops the guest.
            streamId = -1;
            width = 0;
            height = 0;
            codec = null;
            }
        resumeIfPaused();
        announceCodecs();
    }

    private void report(RedChannelClient rcc, StreamReport report) {
        for (Client c : clients) {
            if (c.rcc == rcc) {
                c.lastReport = report;
            }
        }
        if (report.isInvalidStream()) {
            // R8: the client cannot decode (or does not know) the stream.
            LOG.warn("{}: client reports stream {} invalid (cannot decode {})", rcc.logContext(), report.streamId(),
                    codec);
        } else {
            // R9: late frames raise the session's clock latency, spare margin lowers it.
            rcc.session().clock().videoReport((int) report.endFrameMmTime(), report.numFrames(), report.numDrops(),
                    report.lastFrameDelay());
        }
        listener.streamReport(rcc.logContext(), report);
    }

    private void announceCodecs() {
        List<VideoCodec> codecs = commonCodecs();
        boolean restart = codec != null && streamId >= 0 && !codecs.contains(codec);
        listener.codecsChanged(codecs, restart);
    }

    /** The client acknowledged frames: its pace (issue 13) and perhaps a guest to resume. */
    private void delivered(Client c) {
        long now = System.nanoTime();
        if (c.lastAckAt != 0) {
            long sample = now - c.lastAckAt;
            c.ackInterval = c.ackInterval <= 0 ? sample : c.ackInterval + ((sample - c.ackInterval) >> ACK_INTERVAL_EWMA_SHIFT);
        }
        c.lastAckAt = now;
        frameDelivered(c);
        clientDrained();
    }

    /** R9: how late a frame reached the client tells its session's clock even when no report comes. */
    private static void frameDelivered(Client c) {
        long stamp = c.rcc.lastDeliveredFrameNanos();
        long age = c.rcc.lastDeliveryAgeNanos();
        if (stamp == Long.MIN_VALUE || stamp == c.clockStamp || age < 0) {
            return;
        }
        c.clockStamp = stamp;
        c.rcc.session().clock().frameDelivered(age, System.nanoTime() - stamp);
    }

    private void clientDrained() {
        if (pausedForClients && !allBlocked(System.nanoTime())) {
            resumeIfPaused();
        }
    }

    private void resumeIfPaused() {
        cancelReadAhead();
        if (pausedForClients) {
            pausedForClients = false;
            listener.backPressure(false);
        }
    }

    /**
     * Issue 13: the guest was just paused for slow viewers (taking longer than two read-aheads per frame) that can
     * take a frame after their next acknowledgement (MJPEG only: every frame stands alone). Resumes reading {@link #PACING_READ_AHEAD_NANOS} before the
     * first of them is expected to acknowledge, so that the frames the guest wrote while paused are skipped and the
     * viewer is sent a fresh one; without it, the frame it got had waited in the guest since the previous pause.
     */
    private void scheduleReadAhead(long now) {
        cancelReadAhead();
        if (codec != VideoCodec.MJPEG || maxVideoAgeNanos == 0) {
            return;
        }
        long expected = Long.MAX_VALUE;
        for (Client c : clients) {
            if (c.streamId != streamId) {
                continue;
            }
            // Slow: its time per frame while frames wait for it (not merely the stream's own interval) is longer
            // than two read-aheads; a fast viewer in a burst keeps the pacing slack.
            if (c.rcc.frameServiceNanos() <= 2 * PACING_READ_AHEAD_NANOS || c.ackInterval <= 0
                    || !c.readyAfterNextAck(maxVideoAgeNanos)) {
                return; // not (only) slow viewers whose next acknowledgement lets them take a frame: plain pacing
            }
            long at = c.lastAckAt + c.ackInterval;
            if (expected == Long.MAX_VALUE || at - expected < 0) {
                expected = at;
            }
        }
        if (expected == Long.MAX_VALUE || expected - now < 0) {
            return; // nobody to read ahead for, or its acknowledgement is already late: wait for it
        }
        long until = expected + PACING_READ_AHEAD_NANOS;
        readAheadTimer = executor.schedule(() -> readAhead(until),
                Math.max(0, expected - PACING_READ_AHEAD_NANOS - now), TimeUnit.NANOSECONDS);
    }

    private void readAhead(long until) {
        readAheadTimer = null;
        if (!pausedForClients) {
            return;
        }
        LOG.debug("{}: reading the guest ahead of a pacing viewer's acknowledgement", name());
        pausedForClients = false;
        readingAhead = true;
        readAheadUntil = until;
        listener.backPressure(false);
    }

    private void cancelReadAhead() {
        readingAhead = false;
        if (readAheadTimer != null) {
            readAheadTimer.cancel(false);
            readAheadTimer = null;
        }
    }

    /**
     * Restarts the guest stream (R1) for a client waiting for a key frame: after it waited the key-frame wait, or at
     * once ({@code now}) when it skipped frames for freshness; never more often than once per key-frame wait, so
     * that one slow client cannot keep the guest restarting.
     */
    private void maybeRestart(Client c, long now, boolean atOnce) {
        long limit = config.keyFrameWaitLimit().toNanos();
        if (limit == 0 || (!atOnce && now - c.waitingSince < limit)) {
            return;
        }
        if (restartRequested && now - restartRequestedAt < limit) {
            return;
        }
        restartRequested = true;
        restartRequestedAt = now;
        LOG.info("{}: {}: restarting the guest stream for a key frame", c.rcc.logContext(),
                atOnce ? "frames skipped for freshness" : "no key frame for " + (now - c.waitingSince) / 1_000_000 + " ms");
        listener.codecsChanged(commonCodecs(), true);
    }

    // ------------------------------------------------------------------ per-client messages

    private void sendSurface(Client c, boolean fill) {
        int flags = SURFACE_FLAG_PRIMARY | (c.multiCodec ? SURFACE_FLAG_STREAMING_MODE : 0); // B37
        send(c, MSG_SURFACE_CREATE, surfaceCreate(c.alloc(), SURFACE_ID, width, height, flags));
        if (c.rcc.hasRemoteChannelCap(CAP_MONITORS_CONFIG)) {
            send(c, MSG_MONITORS_CONFIG, monitorsConfig(c.alloc(), SURFACE_ID, width, height));
        }
        if (fill) {
            send(c, MSG_DRAW_FILL, drawFillBlack(c.alloc(), SURFACE_ID, width, height));
        }
        send(c, MSG_MARK, empty(c.alloc()));
    }

    private void createClientStream(Client c) {
        send(c, MSG_STREAM_CREATE, streamCreate(c.alloc(), SURFACE_ID, streamId, codec.wireValue(), width, height));
        c.streamId = streamId;
        if (c.rcc.hasRemoteChannelCap(CAP_STREAM_REPORT)) {
            send(c, MSG_STREAM_ACTIVATE_REPORT,
                    streamActivateReport(c.alloc(), streamId, REPORT_UNIQUE_ID, REPORT_MAX_WINDOW, REPORT_TIMEOUT_MS));
        }
        c.waitingForKeyFrame = false;
        if (codec != VideoCodec.MJPEG) {
            c.startWaiting(System.nanoTime());
        }
    }

    private void destroyClientStream(Client c) {
        if (c.streamId >= 0) { // B32 / R1: only to a client that was told about the stream
            send(c, MSG_STREAM_DESTROY, streamDestroy(c.alloc(), c.streamId));
            c.streamId = -1;
        }
    }

    private static void send(Client c, int type, ByteBuf head) {
        // Control messages must not be lost: they use the queue's control reserve, so a client whose queue refuses
        // frames still learns about a restart; only a client that does not drain even that reserve is disconnected.
        c.rcc.send(new OutgoingMessage(type, head));
    }

    private int frameMmTime(long arrivalNanos) {
        long ageMs = Math.max(0, (System.nanoTime() - arrivalNanos) / 1_000_000);
        int t = (int) (mmTime.now() - ageMs);
        if (t - lastMmTime < 0 && lastMmTime != 0) {
            t = lastMmTime; // never backwards (u32 wrap-around compared as a difference)
        }
        lastMmTime = t;
        return t;
    }

    @Override
    public String name() {
        return super.name() + " device=" + deviceName;
    }

    /** One client connection of this channel, as the channel sees it. */
    private static final class Client {
        final RedChannelClient rcc;
        final Set<VideoCodec> codecs = EnumSet.of(VideoCodec.MJPEG);
        final boolean sized;
        final boolean multiCodec;
        int streamId = -1;
        boolean waitingForKeyFrame;
        long waitingSince;
        long framesSent;
        long framesDropped;
        StreamReport lastReport;
        /** When it last acknowledged frames, and the averaged interval between its acknowledgements (0: unknown). */
        long lastAckAt;
        long ackInterval;
        /** Stamp of the last acknowledged frame told to the session's clock. */
        long clockStamp = Long.MIN_VALUE;
        // per frame in sendFrame
        boolean takes;
        boolean blocked;

        Client(RedChannelClient rcc) {
            this.rcc = rcc;
            for (VideoCodec v : VideoCodec.values()) {
                if (rcc.hasRemoteChannelCap(v.displayCapability())) {
                    codecs.add(v);
                }
            }
            this.sized = rcc.hasRemoteChannelCap(CAP_SIZED_STREAM);
            this.multiCodec = rcc.hasRemoteChannelCap(CAP_MULTI_CODEC);
        }

        ByteBufAllocator alloc() {
            return rcc.alloc();
        }

        /**
         * Whether a frame sent now would not reach the client fresh (R10): the frames it has not acknowledged yet are
         * already older than the age bound (beyond the round trip), or, at the time it takes per frame, this one
         * would only be taken after the age bound; or its queue is congested.
         */
        boolean isBlocked(long now, long maxAge) {
            if (rcc.isCongested()) {
                return true;
            }
            if (maxAge == 0) {
                return false; // no age bound: only the queue's bounds apply
            }
            int inFlight = rcc.undeliveredFrames();
            if (inFlight == 0) {
                return false;
            }
            if (inFlight >= MAX_FRAMES_IN_FLIGHT) {
                return true;
            }
            long oldest = rcc.oldestUndeliveredFrameNanos();
            long rtt = Math.max(0, rcc.roundTripNanos());
            if (oldest != Long.MIN_VALUE && now - oldest > maxAge + rtt) {
                return true;
            }
            long service = rcc.frameServiceNanos();
            if (service < 0) {
                return inFlight >= INITIAL_FRAMES_IN_FLIGHT;
            }
            return (inFlight + 1) * service > maxAge;
        }

        /** Whether it is blocked only by its budget of frames in flight, which its next acknowledgement frees. */
        boolean readyAfterNextAck(long maxAge) {
            int inFlight = rcc.undeliveredFrames();
            if (inFlight < 1 || rcc.isCongested()) {
                return false;
            }
            long service = rcc.frameServiceNanos();
            if (service < 0) {
                return inFlight - 1 < INITIAL_FRAMES_IN_FLIGHT;
            }
            return inFlight - 1 < MAX_FRAMES_IN_FLIGHT && inFlight * service <= maxAge;
        }

        boolean withinPacingSlack(long now, long maxAge) {
            if (rcc.isCongested()) {
                return false;
            }
            long service = rcc.frameServiceNanos();
            long fits = service < 0 ? INITIAL_FRAMES_IN_FLIGHT
                    : Math.min(MAX_FRAMES_IN_FLIGHT, Math.max(1, maxAge / Math.max(1, service)));
            return rcc.undeliveredFrames() < fits + PACING_SLACK_FRAMES;
        }

        void startWaiting(long now) {
            if (!waitingForKeyFrame) {
                waitingForKeyFrame = true;
                waitingSince = now;
            }
        }
    }
}
