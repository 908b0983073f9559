package org.spicestream.distribution.input;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.StreamDevice;
import org.spicestream.protocol.Format;
import org.spicestream.streamchannel.StreamChannel;
import org.spicestream.device.spi.GuestInputSink;

/**
 * Keeps a {@link GuestInputSink}'s display sizes (the scale of absolute mouse positions) equal to the size of each
 * device's current stream, so a client's position on display N lands on the same spot in the VM.
 *
 * <p>The stream device has no FORMAT callback, so its {@link StreamDevice#format()} is polled on the device's own
 * executor (where that state lives) every {@link #POLL_INTERVAL}; only a change reaches the sink.
 */
public final class DisplaySizeFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DisplaySizeFollower.class);

    /** How often a device's FORMAT is looked at. */
    public static final Duration POLL_INTERVAL = Duration.ofMillis(250);

    private final StreamDevice device;
    private final GuestInputSink sink;
    private final ScheduledFuture<?> task;
    // confined to the device executor
    private int lastId = -1;
    private Format lastFormat;

    private DisplaySizeFollower(StreamDevice device, GuestInputSink sink) {
        this.device = device;
        this.sink = sink;
        long ms = POLL_INTERVAL.toMillis();
        this.task = device.executor().scheduleAtFixedRate(this::poll, 0, ms, TimeUnit.MILLISECONDS);
    }

    /** Starts following {@code device}'s stream size; {@link #close()} stops. */
    public static DisplaySizeFollower follow(StreamDevice device, GuestInputSink sink) {
        return new DisplaySizeFollower(device, sink);
    }

    private void poll() {
        StreamChannel channel = device.streamChannel();
        Format format = device.format();
        if (channel == null || format == null) {
            return;
        }
        int id = channel.id();
        if (id == lastId && lastFormat != null && lastFormat.width() == format.width()
                && lastFormat.height() == format.height()) {
            return;
        }
        lastId = id;
        lastFormat = format;
        try {
            sink.setDisplaySize(id, format.width(), format.height());
            LOG.info("{}: absolute mouse positions on display {} scaled from {}x{}", device.name(), id,
                    format.width(), format.height());
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: absolute mouse positions on display {} keep their previous scale: {}", device.name(), id,
                    e.getMessage());
        }
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
