package org.spicestream.distribution.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import org.spicestream.distribution.DeviceFactory;
import org.spicestream.distribution.Settings;
import org.spicestream.distribution.metrics.StreamdMetrics;
import org.spicestream.distribution.vm.RouteTickets;
import org.spicestream.distribution.vm.VmEnvironment;
import org.spicestream.distribution.vm.VmRegistry;
import org.spicestream.reds.ClasspathWebContent;
import org.spicestream.reds.FrontDoor;
import org.spicestream.reds.LinkConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.SpiceServer;
import org.spicestream.reds.TlsConfig;
import org.spicestream.reds.WebConfig;
import org.spicestream.transport.socket.SocketEventLoops;
import org.spicestream.webclient.WebClientAssets;

/**
 * The SPICE side: the shared port (front door), what every VM shares (event loops, the link-key thread, the HTTP
 * side, the TLS files) and the VM registry that routes the shared port.
 */
public final class ServerModule extends AbstractModule {

    /** Smallest number of event loops (one for clients, one for guests, at least). */
    public static final int MIN_EVENT_LOOPS = 2;
    /** The browser client of module web-client, served from this class path. */
    public static final ClasspathWebContent BUILT_IN_CLIENT =
            new ClasspathWebContent(WebClientAssets.classLoader(), WebClientAssets.RESOURCE_ROOT);

    @Provides
    @Singleton
    WebConfig webConfig(Settings s) {
        Settings.Web w = s.web();
        // the built-in browser client at / (and /vms/NAME/) unless --web-root serves another one
        return WebConfig.DEFAULT.withWebRoot(w.webRoot()).withWebContent(w.webRoot() == null ? BUILT_IN_CLIENT : null)
                .withMaxWebSocketFrameSize(w.wsMaxFrameBytes())
                .withHttpLimits(WebConfig.DEFAULT_MAX_INITIAL_LINE, WebConfig.DEFAULT_MAX_HEADER_SIZE, w.httpTimeout())
                .withAllowedOrigins(w.wsAllowedOrigins());
    }

    /** The shared port: --listen, and --tls-port on the same host. */
    @Provides
    @Singleton
    FrontDoor.Config frontDoor(Settings s, WebConfig web) {
        Settings.Web w = s.web();
        ListenConfig listen = ListenConfig.of(s.listen().toSocketAddress());
        if (w.tlsPort() > 0) {
            listen = listen.withTls(new TlsConfig(new InetSocketAddress(s.listen().host(), w.tlsPort()), w.tlsCert(),
                    w.tlsKey(), w.tlsCa()));
        }
        return new FrontDoor.Config(listen, LinkConfig.DEFAULT, web);
    }

    @Provides
    @Singleton
    VmEnvironment vmEnvironment(Settings s, EventLoopGroup group, ExecutorService keyExecutor, DeviceFactory devices,
            WebConfig web, StreamdMetrics metrics) {
        Settings.Web w = s.web();
        VmEnvironment.TlsFiles tls = w.tlsCert() == null ? null
                : new VmEnvironment.TlsFiles(w.tlsCert(), w.tlsKey(), w.tlsCa(), w.secureChannels());
        return new VmEnvironment(group, keyExecutor, devices, web, tls, metrics);
    }

    @Provides
    @Singleton
    VmRegistry vms(Settings s, VmEnvironment env) {
        RouteTickets tickets = s.host().routeSecretFile() == null ? null
                : RouteTickets.fromFile(s.host().routeSecretFile());
        return new VmRegistry(env, tickets, Clock.systemUTC());
    }

    /** Shared by every server and transport; shut down by the application after both closed. */
    @Provides
    @Singleton
    EventLoopGroup eventLoops() {
        return SocketEventLoops.newGroup(Math.max(MIN_EVENT_LOOPS, Runtime.getRuntime().availableProcessors()));
    }

    /** The one thread that generates link keys for every VM's server. */
    @Provides
    @Singleton
    ExecutorService keyExecutor() {
        return SpiceServer.newKeyExecutor();
    }
}
