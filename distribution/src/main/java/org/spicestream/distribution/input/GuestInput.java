package org.spicestream.distribution.input;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.spi.GuestInputSink;
import org.spicestream.distribution.GuestTransports;
import org.spicestream.reds.InputSink;

/**
 * Where a VM's SPICE clients' keyboard and mouse go. A SPICE server has one inputs channel, so one sink: the {@link
 * GuestInputSink} capability of the <em>first</em> of the VM's devices (in order) whose transport has one (a {@code
 * virtio:} URI with {@code ?qmp=}). Without such a device, input is logged at debug level ({@link
 * InputSink#logging()}).
 *
 * @param sink the server's input sink
 * @param device name of the device whose VM gets the input, if any
 * @param guest the guest input sink when input goes to a VM (for absolute-motion scaling and metrics)
 */
public record GuestInput(InputSink sink, Optional<String> device, Optional<GuestInputSink> guest) {

    private static final Logger LOG = LoggerFactory.getLogger(GuestInput.class);

    public GuestInput {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(guest, "guest");
    }

    /** Input is only logged. */
    public static GuestInput loggingOnly() {
        return new GuestInput(InputSink.logging(), Optional.empty(), Optional.empty());
    }

    /** Picks the first device whose transport can inject input; logs the choice (and the devices passed over). */
    public static GuestInput select(List<GuestTransports.Entry> entries) {
        GuestInput chosen = null;
        for (GuestTransports.Entry e : entries) {
            Optional<GuestInputSink> sink = e.transport().capability(GuestInputSink.class);
            if (sink.isEmpty()) {
                continue;
            }
            if (chosen == null) {
                chosen = new GuestInput(sink.get(), Optional.of(e.name()), sink);
                LOG.info("{}: keyboard and mouse of SPICE clients go to this VM ({})", e.name(), e.uri());
            } else {
                LOG.info("{}: could take input too, but input goes to {} only (the first such device)", e.name(),
                        chosen.device().orElseThrow());
            }
        }
        if (chosen == null) {
            LOG.debug("no device with an input capability (virtio with ?qmp=): SPICE input is logged, not sent");
            return loggingOnly();
        }
        return chosen;
    }
}
