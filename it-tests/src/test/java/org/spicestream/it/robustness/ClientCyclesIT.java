package org.spicestream.it.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.internal.Wire;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.SpiceTestClient.Message;

/**
 * Issue 8, faults: 1000 client connect/disconnect cycles while the guest streams — some cut in the middle of the
 * link, some while frames flow. The stream keeps going for a client that stays; nothing is left afterwards: no
 * session, no linking connection, no client, no fd, no thread, no buffer.
 */
class ClientCyclesIT {

    private static final Logger LOG = LoggerFactory.getLogger(ClientCyclesIT.class);

    static final int CYCLES = 1000;
    static final int WARM_UP = 8;
    static final int CHECK_EVERY = 100;
    static final Duration STEP = Duration.ofSeconds(10);

    @Test
    void aThousandClientConnectDisconnectCyclesMidLinkAndMidFrameLeaveNothing() throws Exception {
        int[] kinds = new int[Kind.values().length];
        int framesSeen = 0;
        Resources before;
        long observerFramesBefore;
        try (Relay relay = new Relay(b -> b)) {
            InetSocketAddress server = relay.server.localAddress();
            SpiceTestClient observerMain = SpiceTestClient.connect(server, SpiceTestClient.options());
            SpiceTestClient observer = observerMain.linkChannel(SpiceChannelType.DISPLAY, 0);
            try (StreamingGuest guest = StreamingGuest.start(relay.socket, 2048, 200, true)) {
                observer.next(MSG_STREAM_DATA);
                for (int i = 0; i < WARM_UP; i++) {
                    cycle(server, Kind.values()[i % Kind.values().length]);
                }
                await().atMost(STEP).until(() -> relay.server.linkingConnections() == 0
                        && relay.server.sessions().size() == 1);
                observer.drain();
                before = Resources.now();
                before.log("client cycles", "before");
                observerFramesBefore = guest.framesSent();
                long t0 = System.nanoTime();
                for (int i = 0; i < CYCLES; i++) {
                    Kind kind = Kind.values()[i % Kind.values().length];
                    framesSeen += cycle(server, kind);
                    kinds[kind.ordinal()]++;
                    // the observer's own messages are not needed; keep its queue short
                    observer.drain();
                    if ((i + 1) % CHECK_EVERY == 0) {
                        await().atMost(STEP).until(() -> relay.server.linkingConnections() == 0
                                && relay.server.sessions().size() == 1);
                        Resources r = Resources.now();
                        LOG.info("[robustness] client cycles: {} done, {}", i + 1, r.describe());
                        assertThat(r.fds()).isLessThanOrEqualTo(before.fds() + Resources.FD_TOLERANCE);
                        assertThat(r.threads()).isLessThanOrEqualTo(before.threads() + Resources.THREAD_TOLERANCE);
                        assertThat(observer.isOpen()).isTrue();
                    }
                }
                long elapsed = System.nanoTime() - t0;
                // The stream went on for the client that stayed the whole time.
                long sent = guest.framesSent() - observerFramesBefore;
                assertThat(guest.failure()).isNull();
                assertThat(observer.isOpen()).isTrue();
                observer.next(MSG_STREAM_DATA);
                LOG.info("[robustness] client cycles: {} cycles in {} ms ({} ms/cycle), kinds {}: {}; frames seen by"
                        + " cycling clients {}, guest sent {} frames meanwhile, internal errors {}", CYCLES,
                        elapsed / 1_000_000, elapsed / 1_000_000 / CYCLES, Arrays.toString(Kind.values()),
                        Arrays.toString(kinds), framesSeen, sent, relay.server.internalErrors());
                assertThat(relay.server.internalErrors()).isZero();
            }
            observer.close();
            observerMain.close();
            await().atMost(STEP).until(relay::isIdle);
            assertThat(relay.server.sessions()).isEmpty();
            assertThat(relay.server.linkingConnections()).isZero();
        }
        assertThat(Arrays.stream(kinds).sum()).isEqualTo(CYCLES);
        assertThat(framesSeen).as("every mid-frame cycle saw frames").isGreaterThanOrEqualTo(kinds[Kind.MAIN_DISPLAY_MID_FRAME.ordinal()]
                + kinds[Kind.MAIN_GONE_MID_FRAME.ordinal()]);
        Resources after = Resources.awaitBackTo(before);
        after.log("client cycles", "after");
        assertThat(after.heapAfterGc()).isLessThanOrEqualTo(before.heapAfterGc() + Resources.HEAP_TOLERANCE);
    }

    enum Kind {
        /** Part of the link header, then close. */
        MID_LINK_HEADER,
        /** The whole link message, close at once (the server is generating the link key). */
        MID_LINK_KEYGEN,
        /** The whole link message, read the reply, close before the ticket. */
        MID_LINK_BEFORE_TICKET,
        /** An HTTP request on the SPICE port (the sniffing path), close after the status line. */
        HTTP_REQUEST,
        /** Main + display linked; display closed while frames flow, then main. */
        MAIN_DISPLAY_MID_FRAME,
        /** Main + display linked; the main channel goes first while frames flow (the session ends under the display). */
        MAIN_GONE_MID_FRAME
    }

    /** One cycle; returns the STREAM_DATA messages the cycling client saw. */
    private static int cycle(InetSocketAddress server, Kind kind) throws Exception {
        switch (kind) {
            case MID_LINK_HEADER -> {
                try (Socket s = new Socket(server.getAddress(), server.getPort())) {
                    s.getOutputStream().write(Arrays.copyOf(linkMessage(), 7));
                    s.getOutputStream().flush();
                }
                return 0;
            }
            case MID_LINK_KEYGEN -> {
                try (Socket s = new Socket(server.getAddress(), server.getPort())) {
                    s.getOutputStream().write(linkMessage());
                    s.getOutputStream().flush();
                }
                return 0;
            }
            case HTTP_REQUEST -> {
                try (Socket s = new Socket(server.getAddress(), server.getPort())) {
                    s.setSoTimeout((int) STEP.toMillis());
                    s.getOutputStream().write("GET /spice.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    byte[] status = s.getInputStream().readNBytes(12);
                    assertThat(new String(status, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 ");
                }
                return 0;
            }
            case MID_LINK_BEFORE_TICKET -> {
                try (Socket s = new Socket(server.getAddress(), server.getPort())) {
                    s.setSoTimeout((int) STEP.toMillis());
                    OutputStream out = s.getOutputStream();
                    out.write(linkMessage());
                    out.flush();
                    InputStream in = s.getInputStream();
                    byte[] reply = in.readNBytes(Wire.LINK_HEADER_SIZE + Wire.LINK_REPLY_SIZE);
                    assertThat(reply).hasSize(Wire.LINK_HEADER_SIZE + Wire.LINK_REPLY_SIZE);
                    out.write(new byte[] {1, 0}); // half of the auth mechanism
                    out.flush();
                }
                return 0;
            }
            case MAIN_DISPLAY_MID_FRAME, MAIN_GONE_MID_FRAME -> {
                SpiceTestClient main = SpiceTestClient.connect(server, SpiceTestClient.options());
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0);
                assertThat(display.linkResult()).isZero();
                display.next(MSG_STREAM_DATA);
                int frames = 1;
                List<Message> more = display.drain();
                frames += (int) more.stream().filter(m -> m.type() == MSG_STREAM_DATA).count();
                if (kind == Kind.MAIN_DISPLAY_MID_FRAME) {
                    display.close();
                    main.close();
                } else {
                    main.close();
                    assertThat(display.awaitClosed(STEP)).as("the session's display goes with its main channel").isTrue();
                    display.close();
                }
                return frames;
            }
            default -> throw new IllegalArgumentException(kind.toString());
        }
    }

    /** A main-channel link message as spice-gtk sends it (AUTH_SELECTION, MINI_HEADER). */
    static byte[] linkMessage() {
        return RawSpiceClient.linkMessage(0, SpiceChannelType.MAIN, 0);
    }
}
