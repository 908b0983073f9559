package org.spicestream.device.spi;

import org.spicestream.reds.InputSink;

/**
 * A transport capability ({@link GuestTransport#capability}): SPICE clients' keyboard and mouse injected into the
 * transport's VM. Absolute positions are scaled from the size of the display they refer to.
 */
public interface GuestInputSink extends InputSink {

    /**
     * The size of display {@code displayId} (e.g. its stream's FORMAT), used to scale absolute positions.
     *
     * @throws IllegalArgumentException when the id or the size is outside what the sink keeps
     */
    void setDisplaySize(int displayId, int width, int height);

    /** Events the VM took. */
    long sentEvents();

    /** Events dropped (VM not reachable, or it refused them). */
    long failedEvents();
}
