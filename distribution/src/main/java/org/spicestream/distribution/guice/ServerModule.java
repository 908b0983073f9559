package org.spicestream.distribution.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.netty.channel.EventLoopGroup;
import org.spicestream.distribution.Settings;
import java.net.InetSocketAddress;
import org.spicestream.reds.InputSink;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.TlsConfig;
import org.spicestream.transport.socket.SocketEventLoops;

/**
 * The SPICE server side: its configuration (with the {@link InputSink} of {@link InputModule}) and the one event
 * loop group clients and devices share.
 */
public final class ServerModule extends AbstractModule {

    /** Smallest number of event loops (one for clients, one for guests, at least). */
    public static final int MIN_EVENT_LOOPS = 2;

    @Provides
    @Singleton
    ServerConfig serverConfig(Settings s, InputSink inputSink) {
        ServerConfig.Builder b = ServerConfig.builder()
                .listenAddress(s.listen().toSocketAddress())
                .ticketingDisabled(s.ticketingDisabled())
                .sessionPolicy(s.sessionPolicy())
                .sendQueueMaxBytes(s.sendQueueBytes())
                .sendQueueMaxMessages(s.sendQueueMessages())
                .maxClientsPerChannel(s.maxClientsPerChannel())
                .maxSessions(s.maxSessions())
                .inputSink(inputSink);
        if (s.password() != null) {
            b.password(s.password()).passwordExpiry(s.passwordExpiry());
        }
        Settings.Web w = s.web();
        b.webRoot(w.webRoot()).maxWebSocketFrameSize(w.wsMaxFrameBytes()).httpRequestTimeout(w.httpTimeout())
                .webSocketAllowedOrigins(w.wsAllowedOrigins()).secureChannels(w.secureChannels());
        if (w.tlsPort() > 0) {
            b.tls(new TlsConfig(new InetSocketAddress(s.listen().host(), w.tlsPort()), w.tlsCert(), w.tlsKey(), w.tlsCa()));
        }
        return b.build();
    }

    /** Shared by the server and every transport; shut down by the application after both closed. */
    @Provides
    @Singleton
    EventLoopGroup eventLoops() {
        return SocketEventLoops.newGroup(Math.max(MIN_EVENT_LOOPS, Runtime.getRuntime().availableProcessors()));
    }
}
