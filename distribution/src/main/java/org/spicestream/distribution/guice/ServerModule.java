package org.spicestream.distribution.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.netty.channel.EventLoopGroup;
import org.spicestream.distribution.Settings;
import java.net.InetSocketAddress;
import org.spicestream.reds.InputSink;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.reds.ClasspathWebContent;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.ListenConfig;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.WebConfig;
import org.spicestream.reds.TlsConfig;
import org.spicestream.transport.socket.SocketEventLoops;
import org.spicestream.webclient.WebClientAssets;

/**
 * The SPICE server side: its configuration (with the {@link InputSink} of {@link InputModule}) and the one event
 * loop group clients and devices share.
 */
public final class ServerModule extends AbstractModule {

    /** Smallest number of event loops (one for clients, one for guests, at least). */
    public static final int MIN_EVENT_LOOPS = 2;
    /** The browser client of module web-client, served from this class path. */
    public static final ClasspathWebContent BUILT_IN_CLIENT =
            new ClasspathWebContent(WebClientAssets.classLoader(), WebClientAssets.RESOURCE_ROOT);

    @Provides
    @Singleton
    ServerConfig serverConfig(Settings s, InputSink inputSink) {
        Settings.Web w = s.web();
        ListenConfig listen = ListenConfig.of(s.listen().toSocketAddress());
        if (w.tlsPort() > 0) {
            listen = listen.withTls(new TlsConfig(new InetSocketAddress(s.listen().host(), w.tlsPort()), w.tlsCert(),
                    w.tlsKey(), w.tlsCa())).withSecureChannels(w.secureChannels());
        }
        VmConfig vm = s.defaultVm();
        VmLimits l = vm.limits();
        return ServerConfig.DEFAULT
                .withListen(listen)
                .withAuth(vm.auth())
                .withSessions(new SessionConfig(vm.sessionPolicy(), l.maxSessions(), l.maxClientsPerChannel()))
                .withConnection(ConnectionConfig.DEFAULT.withSendQueue(l.sendQueueBytes(), l.sendQueueMessages()))
                // the built-in browser client at / unless --web-root serves another one
                .withWeb(WebConfig.DEFAULT.withWebRoot(w.webRoot())
                        .withWebContent(w.webRoot() == null ? BUILT_IN_CLIENT : null)
                        .withMaxWebSocketFrameSize(w.wsMaxFrameBytes())
                        .withHttpLimits(WebConfig.DEFAULT_MAX_INITIAL_LINE, WebConfig.DEFAULT_MAX_HEADER_SIZE,
                                w.httpTimeout())
                        .withAllowedOrigins(w.wsAllowedOrigins()))
                .withInputSink(inputSink);
    }

    /** Shared by the server and every transport; shut down by the application after both closed. */
    @Provides
    @Singleton
    EventLoopGroup eventLoops() {
        return SocketEventLoops.newGroup(Math.max(MIN_EVENT_LOOPS, Runtime.getRuntime().availableProcessors()));
    }
}
