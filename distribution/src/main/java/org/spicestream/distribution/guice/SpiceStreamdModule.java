package org.spicestream.distribution.guice;

import com.google.inject.AbstractModule;
import org.spicestream.distribution.Settings;

/** The whole application: the parsed settings plus one module per concern. */
public final class SpiceStreamdModule extends AbstractModule {

    private final Settings settings;

    public SpiceStreamdModule(Settings settings) {
        this.settings = settings;
    }

    @Override
    protected void configure() {
        bind(Settings.class).toInstance(settings);
        install(new ServerModule());
        install(new DeviceModule());
        install(new MetricsModule());
    }
}
