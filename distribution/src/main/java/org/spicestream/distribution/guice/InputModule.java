package org.spicestream.distribution.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.spicestream.distribution.GuestTransports;
import org.spicestream.distribution.input.GuestInput;
import org.spicestream.reds.InputSink;

/**
 * Keyboard and mouse of SPICE clients: the {@link InputSink} the server is built with. It is the QMP sink of the
 * first {@code virtio:…?qmp=} device, so the configured transports are created before the server (see {@link
 * GuestInput#select}); otherwise the logging sink.
 */
public final class InputModule extends AbstractModule {

    @Provides
    @Singleton
    GuestInput guestInput(GuestTransports transports) {
        return GuestInput.select(transports.entries());
    }

    @Provides
    @Singleton
    InputSink inputSink(GuestInput input) {
        return input.sink();
    }
}
