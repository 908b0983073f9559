package org.spicestream.distribution.input;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.distribution.GuestTransports;
import org.spicestream.reds.InputSink;
import org.spicestream.transport.virtio.QmpInputSink;
import org.spicestream.transport.virtio.VirtioGuestTransport;

/**
 * Where SPICE clients' keyboard and mouse go. A SPICE server has one inputs channel, so one sink: the {@link
 * QmpInputSink} of the <em>first</em> {@code --device} (in command-line order) that is a {@code virtio:} URI with
 * {@code ?qmp=}. Other devices' QMP connections only follow their ports. Without such a device, input is logged at
 * debug level ({@link InputSink#logging()}).
 *
 * @param sink the server's input sink
 * @param device name of the device whose VM gets the input, if any
 * @param qmp the QMP sink when input goes to a VM (for absolute-motion scaling)
 */
public record GuestInput(InputSink sink, Optional<String> device, Optional<QmpInputSink> qmp) {

    private static final Logger LOG = LoggerFactory.getLogger(GuestInput.class);

    public GuestInput {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(qmp, "qmp");
    }

    /** Input is only logged. */
    public static GuestInput loggingOnly() {
        return new GuestInput(InputSink.logging(), Optional.empty(), Optional.empty());
    }

    /** Picks the first virtio device with QMP; logs the choice (and the devices passed over). */
    public static GuestInput select(List<GuestTransports.Entry> entries) {
        GuestInput chosen = null;
        for (GuestTransports.Entry e : entries) {
            if (!(e.transport() instanceof VirtioGuestTransport v)) {
                continue;
            }
            Optional<QmpInputSink> sink = v.inputSink();
            if (sink.isEmpty()) {
                continue;
            }
            if (chosen == null) {
                chosen = new GuestInput(sink.get(), Optional.of(e.name()), sink);
                LOG.info("{}: keyboard and mouse of SPICE clients go to this VM over QMP input-send-event ({})",
                        e.name(), e.uri());
            } else {
                LOG.info("{}: has QMP too, but input goes to {} only (the first such --device)", e.name(),
                        chosen.device().orElseThrow());
            }
        }
        if (chosen == null) {
            LOG.debug("no virtio device with ?qmp=: SPICE input is logged, not sent anywhere");
            return loggingOnly();
        }
        return chosen;
    }
}
