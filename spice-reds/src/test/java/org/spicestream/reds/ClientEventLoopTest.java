package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestChannel;

/** A channel that names an event loop gets its clients moved onto it at the end of the link stage. */
class ClientEventLoopTest {
    private SpiceServer server;
    private EventLoopGroup deviceLoops;

    @BeforeEach
    void start() {
        server = SpiceServer.start(ServerConfig.DEFAULT.withListen(ListenConfig.of("127.0.0.1", 0))
                .withAuth(AuthConfig.TICKETING_DISABLED));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (deviceLoops != null) {
            deviceLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** A channel whose connect hook records the thread it ran on. */
    private static final class HomeChannel extends TestChannel {
        final CompletableFuture<Boolean> connectedOnHome = new CompletableFuture<>();

        HomeChannel() {
            super(SpiceChannelType.DISPLAY, true, 1024);
        }

        @Override
        protected void onConnect(RedChannelClient client) {
            EventLoop home = clientEventLoop();
            connectedOnHome.complete(home != null && home.inEventLoop());
            super.onConnect(client);
        }
    }

    @Test
    void clientMovesToTheChannelsLoopKeepingWhatItSentWithItsTicket() throws Exception {
        deviceLoops = new MultiThreadIoEventLoopGroup(1,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        EventLoop home = deviceLoops.next();
        HomeChannel display = new HomeChannel();
        display.setClientEventLoop(home);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0)
                        .afterTicket(150, new byte[] {7, 8, 9}))) {
            assertThat(client.linkResult()).isEqualTo(SpiceLinkError.OK);
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            assertThat(rcc).isNotNull();
            assertThat(rcc.eventLoop()).isSameAs(home);
            assertThat(display.connectedOnHome.get(10, TimeUnit.SECONDS)).isTrue();

            // the message pipelined behind the ticket was kept across the move and handled on the new loop
            TestChannel.Received early = display.received.poll(10, TimeUnit.SECONDS);
            assertThat(early).isNotNull();
            assertThat(early.type()).isEqualTo(150);
            assertThat(early.body()).containsExactly(7, 8, 9);

            // SET_ACK first, then what the channel sends from its own loop, in order
            assertThat(client.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
            home.submit(() -> {
                for (int i = 0; i < 100; i++) {
                    assertThat(rcc.trySend(new OutgoingMessage(200, rcc.alloc().buffer(4).writeIntLE(i)))).isTrue();
                }
            }).sync();
            for (int i = 0; i < 100; i++) {
                SpiceTestClient.Message m = client.next();
                assertThat(m.type()).isEqualTo(200);
                assertThat(m.buf().getIntLE(0)).isEqualTo(i);
            }
            client.send(151, new byte[] {1});
            assertThat(display.received.poll(10, TimeUnit.SECONDS).type()).isEqualTo(151);
        }
        // the moved connection still reports its close: the client is gone from the channel and the session
        RedChannelClient gone = display.disconnected.poll(10, TimeUnit.SECONDS);
        assertThat(gone).isNotNull();
        assertThat(display.clients()).isEmpty();
        assertThat(server.linkingConnections()).isZero();
    }

    @Test
    void aLoopOfAnotherKindLeavesTheClientWhereItWas() throws Exception {
        // a local-transport loop cannot serve a socket: the connection stays on the loop that accepted it
        deviceLoops = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        EventLoop other = deviceLoops.next();
        HomeChannel display = new HomeChannel();
        display.setClientEventLoop(other);
        server.channels().register(display);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient client = SpiceTestClient.connect(server.localAddress(), SpiceTestClient.options()
                        .connectionId(Integer.toUnsignedLong(main.awaitSessionId())).channel(SpiceChannelType.DISPLAY, 0))) {
            assertThat(client.linkResult()).isEqualTo(SpiceLinkError.OK);
            RedChannelClient rcc = display.connected.poll(10, TimeUnit.SECONDS);
            assertThat(rcc).isNotNull();
            assertThat(rcc.eventLoop()).isNotSameAs(other);
            assertThat(display.connectedOnHome.get(10, TimeUnit.SECONDS)).isFalse();
            assertThat(client.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
            assertThat(rcc.trySend(new OutgoingMessage(200, rcc.alloc().buffer(4).writeIntLE(42)))).isTrue();
            assertThat(client.next().buf().getIntLE(0)).isEqualTo(42);
        }
    }
}
