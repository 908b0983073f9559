package org.spicestream.streamchannel;

import static org.spicestream.streamchannel.internal.DisplayMessages.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
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
    private long restartRequestedAt;
    private boolean restartPending;

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
        restartPending = false;
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

    /** Guest DATA: one frame to every client that knows the stream and is not waiting for a key frame. Owns data. */
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
            for (Client c : clients) {
                if (c.streamId != streamId) {
                    continue;
                }
                if (c.waitingForKeyFrame) {
                    if (!key) {
                        maybeRestart(c, now);
                        continue;
                    }
                    c.waitingForKeyFrame = false;
                }
                ByteBuf head = c.sized
                        ? streamDataSizedHead(c.alloc(), streamId, frameTime, width, height, frame.readableBytes())
                        : streamDataHead(c.alloc(), streamId, frameTime, frame.readableBytes());
                int type = c.sized ? MSG_STREAM_DATA_SIZED : MSG_STREAM_DATA;
                if (c.rcc.trySend(new OutgoingMessage(type, head, frame.retainedDuplicate()))) {
                    c.framesSent++;
                } else {
                    // Queue full: skip frames until the next key frame, which the client can decode on its own.
                    c.framesDropped++;
                    framesDropped.increment();
                    c.startWaiting(now);
                    LOG.debug("{}: queue full, frame dropped; waiting for a key frame", c.rcc.logContext());
                }
            }
            if (!pausedForClients && allCongested()) {
                pausedForClients = true;
                LOG.debug("{}: every client is congested: pausing the guest", name());
                listener.backPressure(true);
            }
        } finally {
            data.release();
        }
    }

    private boolean allCongested() {
        for (Client c : clients) {
            if (!c.rcc.isCongested()) {
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
        restartPending = false;
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
                    c.rcc.roundTripNanos(), c.lastReport));
        }
        return stats;
    }

    /** Counters of one client. */
    public record ClientStats(String client, long framesSent, long framesDropped, long queuedBytes,
            long roundTripNanos, StreamReport lastReport) {}

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
        if (pausedForClients && !allCongested()) {
            resumeIfPaused();
        }
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
            restartPending = false;
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
        }
        listener.streamReport(rcc.logContext(), report);
    }

    private void announceCodecs() {
        List<VideoCodec> codecs = commonCodecs();
        boolean restart = codec != null && streamId >= 0 && !codecs.contains(codec);
        listener.codecsChanged(codecs, restart);
    }

    private void clientDrained() {
        resumeIfPaused();
    }

    private void resumeIfPaused() {
        if (pausedForClients) {
            pausedForClients = false;
            listener.backPressure(false);
        }
    }

    private void maybeRestart(Client c, long now) {
        long waited = now - c.waitingSince;
        if (config.keyFrameWaitLimit().isZero() || waited < config.keyFrameWaitLimit().toNanos()) {
            return;
        }
        if (restartPending && now - restartRequestedAt < config.keyFrameWaitLimit().toNanos()) {
            return;
        }
        restartPending = true;
        restartRequestedAt = now;
        LOG.info("{}: no key frame for {} ms: restarting the guest stream", c.rcc.logContext(), waited / 1_000_000);
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

        void startWaiting(long now) {
            if (!waitingForKeyFrame) {
                waitingForKeyFrame = true;
                waitingSince = now;
            }
        }
    }
}
