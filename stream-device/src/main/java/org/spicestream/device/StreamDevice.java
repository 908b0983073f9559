package org.spicestream.device;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.cursor.CursorChannel;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.CursorMove;
import org.spicestream.protocol.CursorSet;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.DeviceDisplayInfo;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.GuestMessage;
import org.spicestream.protocol.GuestStreamParser;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.NotifyError;
import org.spicestream.protocol.QualityIndicator;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.StreamProtocolException;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.ChannelRegistry;
import org.spicestream.reds.MmTime;
import org.spicestream.streamchannel.StreamChannel;
import org.spicestream.streamchannel.StreamChannelListener;
import org.spicestream.streamchannel.StreamReport;

/**
 * The stream device (B1–B24): parses what the guest writes into {@code org.spice-space.stream.0} and drives one
 * stream channel and one cursor channel, which it registers with the server on first use (B3, B4).
 */
public final class StreamDevice extends CharDevice {

    private static final Logger LOG = LoggerFactory.getLogger(StreamDevice.class);

    /** Pause reason while every client's queue is full. */
    private static final String CLIENTS_CONGESTED = "clients congested";

    private final ChannelRegistry registry;
    private final MmTime mmTime;
    private final StreamDeviceConfig config;
    private final StreamDeviceListener listener;
    private final GuestStreamParser parser;
    private final Capabilities hostCapabilities;

    private StreamChannel streamChannel;
    private CursorChannel cursorChannel;
    private List<VideoCodec> lastSentCodecs;
    private Format format;
    private DeviceDisplayInfo displayInfo;
    private Capabilities agreed = Capabilities.NONE;

    private final LongAdder framesIn = new LongAdder();
    private final LongAdder bytesInFrames = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();

    public StreamDevice(String name, GuestTransport transport, ChannelRegistry registry, MmTime mmTime,
            StreamDeviceConfig config, StreamDeviceListener listener) {
        super(name, transport, config.maxQueuedWriteBytes(), DEFAULT_MAX_QUEUED_WRITES);
        this.registry = registry;
        this.mmTime = mmTime;
        this.config = config;
        this.listener = listener;
        this.parser = new GuestStreamParser(config.limits());
        this.hostCapabilities = config.qualityIndicator() ? Capabilities.of(Capabilities.QUALITY_INDICATOR)
                : Capabilities.of();
    }

    public StreamDevice(String name, GuestTransport transport, ChannelRegistry registry, MmTime mmTime) {
        this(name, transport, registry, mmTime, StreamDeviceConfig.DEFAULT, StreamDeviceListener.NONE);
    }

    /**
     * Creates and registers the stream and cursor channels now instead of at the guest's first open (B3), so
     * clients see the display channel before the guest starts. Must be called on {@link #executor()}.
     */
    public void createChannels() {
        if (streamChannel != null) {
            return;
        }
        streamChannel = new StreamChannel(name(), executor(), mmTime, config.channel(), new ChannelEvents());
        cursorChannel = new CursorChannel(name(), executor());
        if (executor() instanceof EventLoop loop) {
            // Clients of both channels move onto the device's loop: a frame is written where it was read.
            streamChannel.setClientEventLoop(loop);
            cursorChannel.setClientEventLoop(loop);
        }
        int id = registry.register(streamChannel);
        registry.register(cursorChannel);
        LOG.info("{}: display channel {} and cursor channel {} registered", name(), id, cursorChannel.id());
    }

    /** Creates the channels (on the executor) and starts the transport. */
    @Override
    public void start() {
        super.start();
    }

    @Override
    public void close() {
        super.close();
        executor().execute(() -> {
            if (streamChannel != null) {
                registry.unregister(streamChannel);
                registry.unregister(cursorChannel);
            }
        });
    }

    @Override
    protected void onPortOpened() {
        createChannels();
        parser.reset();
        agreed = Capabilities.NONE;
        parser.setQualityIndicatorAllowed(false);
        send(hostCapabilities); // B5: the first message the guest reads
    }

    @Override
    protected void onPortClosed() {
        parser.reset();
    }

    @Override
    protected void onReset() {
        parser.reset();
        format = null;
        lastSentCodecs = null; // the guest forgot what we sent
        if (streamChannel != null) {
            streamChannel.reset();
            resumeReading(CLIENTS_CONGESTED);
            if (isPortOpen() && streamChannel.clientCount() > 0) {
                sendCodecs(streamChannel.commonCodecs(), false); // B33 / B22c
            }
        }
    }

    @Override
    protected int expectedBytes() {
        return parser.pendingBytes();
    }

    @Override
    protected void onData(ByteBuf borrowed) {
        try {
            parser.parse(borrowed, this::handle);
        } catch (StreamProtocolException e) {
            protocolErrors.increment();
            send(NotifyError.of(e)); // B9
            enterErrorState(e.getMessage());
        }
    }

    private void handle(GuestMessage message) {
        if (message instanceof Data data) {
            framesIn.increment();
            bytesInFrames.add(data.content().readableBytes());
            streamChannel.sendFrame(data);
        } else if (message instanceof Format f) {
            if (config.strictCodecs() && (lastSentCodecs == null || !lastSentCodecs.contains(f.codec()))) {
                throw new StreamProtocolException(StreamProtocolException.PROTOCOL_ERROR,
                        "FORMAT codec " + f.codec() + " was not offered (" + lastSentCodecs + ")");
            }
            format = f;
            streamChannel.startStream(f);
        } else if (message instanceof CursorSet c) {
            cursorChannel.setCursor(c);
        } else if (message instanceof CursorMove m) {
            cursorChannel.move(m.x(), m.y());
        } else if (message instanceof Capabilities c) {
            agreed = hostCapabilities.and(c); // B13: what both sides know
            parser.setQualityIndicatorAllowed(agreed.has(Capabilities.QUALITY_INDICATOR));
            LOG.debug("{}: guest capabilities {}, agreed {}", name(), c, agreed);
        } else if (message instanceof DeviceDisplayInfo info) {
            displayInfo = info;
            LOG.info("{}: guest display {} of device {} (stream {})", name(), info.deviceDisplayId(),
                    info.deviceAddress(), info.streamId());
            listener.displayInfo(this, info);
        } else if (message instanceof QualityIndicator q) {
            listener.qualityIndicator(this, q.text());
        }
    }

    private void sendCodecs(List<VideoCodec> codecs, boolean restart) {
        if (!isPortOpen()) {
            return; // B21: dropped, not deferred
        }
        if (restart && !codecs.isEmpty()) {
            // The reference agent keeps its stream on a non-empty list; stop first to force a new FORMAT + key frame.
            send(StartStop.STOP);
            send(new StartStop(codecs));
        } else if (codecs.equals(lastSentCodecs)) {
            return; // R6
        } else {
            send(new StartStop(codecs));
        }
        LOG.info("{}: START_STOP {}{}", name(), codecs.isEmpty() ? "stop" : codecs, restart ? " (restart)" : "");
        lastSentCodecs = codecs;
    }

    private void send(HostMessage message) {
        ByteBuf bytes = StreamMessages.encode(message, ByteBufAllocator.DEFAULT);
        writeToGuest(bytes);
    }

    /** The display channel, or {@code null} before the guest first opened the port. */
    public StreamChannel streamChannel() {
        return streamChannel;
    }

    public CursorChannel cursorChannel() {
        return cursorChannel;
    }

    /** The current stream's FORMAT, or {@code null}. */
    public Format format() {
        return format;
    }

    public DeviceDisplayInfo displayInfo() {
        return displayInfo;
    }

    /** The codec list last sent to the guest, or {@code null} since the last reset. */
    public List<VideoCodec> lastSentCodecs() {
        return lastSentCodecs;
    }

    public long framesIn() {
        return framesIn.sum();
    }

    public long frameBytesIn() {
        return bytesInFrames.sum();
    }

    public long protocolErrors() {
        return protocolErrors.sum();
    }

    /** Stream-channel events, all on the device executor. */
    private final class ChannelEvents implements StreamChannelListener {
        @Override
        public void codecsChanged(List<VideoCodec> codecs, boolean restart) {
            sendCodecs(codecs, restart);
        }

        @Override
        public void backPressure(boolean paused) {
            if (paused) {
                pauseReading(CLIENTS_CONGESTED);
            } else {
                resumeReading(CLIENTS_CONGESTED);
            }
        }

        @Override
        public void streamReport(String client, StreamReport report) {
            listener.streamReport(StreamDevice.this, client, report);
        }
    }
}
