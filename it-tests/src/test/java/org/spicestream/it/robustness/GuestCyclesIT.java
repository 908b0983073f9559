package org.spicestream.it.robustness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_CREATE;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DATA;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_STREAM_DESTROY;
import static org.spicestream.streamchannel.internal.DisplayMessages.MSG_SURFACE_DESTROY;
import static org.spicestream.streamchannel.internal.DisplayMessages.STREAM_DATA_HEAD_SIZE;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.SpiceTestClient.Message;

/**
 * Issue 8, faults: 1000 guest close/open cycles in the middle of a stream, over the real unix socket transport. After
 * every reopen a connected client sees a new STREAM_CREATE and STREAM_DATA; nothing (buffer, fd, thread) is left.
 */
class GuestCyclesIT {

    private static final Logger LOG = LoggerFactory.getLogger(GuestCyclesIT.class);

    static final int CYCLES = 1000;
    /** Cycles that warm the JVM and pools up before the baseline is taken (not counted in CYCLES). */
    static final int WARM_UP = 20;
    /** Every FULL_CHECK-th cycle also compares frame bytes and resource figures. */
    static final int FULL_CHECK = 100;
    static final Duration STEP = Duration.ofSeconds(10);

    @Test
    void aThousandGuestCloseOpenCyclesMidStreamResumeTheStreamEveryTime() throws Exception {
        Resources before;
        int creates = 0;
        int frames = 0;
        int destroys = 0;
        long t0;
        try (Relay relay = new Relay(b -> b);
                SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(), SpiceTestClient.options());
                SpiceTestClient display = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
            assertThat(display.linkResult()).isZero();
            for (int i = 0; i < WARM_UP; i++) {
                cycle(relay, display, i);
            }
            before = Resources.now();
            before.log("guest cycles", "before");
            t0 = System.nanoTime();
            for (int i = 0; i < CYCLES; i++) {
                int[] seen = cycle(relay, display, WARM_UP + i);
                creates += seen[0];
                frames += seen[1];
                destroys += seen[2];
                if ((i + 1) % FULL_CHECK == 0) {
                    Resources r = Resources.now();
                    LOG.info("[robustness] guest cycles: {} done, {}", i + 1, r.describe());
                    assertThat(r.fds()).as("fds after %d cycles", i + 1).isLessThanOrEqualTo(before.fds() + Resources.FD_TOLERANCE);
                    assertThat(r.threads()).as("threads after %d cycles", i + 1)
                            .isLessThanOrEqualTo(before.threads() + Resources.THREAD_TOLERANCE);
                    assertThat(relay.device.protocolErrors()).isZero();
                    assertThat(relay.onDevice(relay.device::queuedWrites)).isZero();
                }
            }
            long elapsed = System.nanoTime() - t0;
            LOG.info("[robustness] guest cycles: {} cycles in {} ms ({} us/cycle): {} STREAM_CREATE, {} STREAM_DATA, {} STREAM_DESTROY",
                    CYCLES, elapsed / 1_000_000, elapsed / 1000 / CYCLES, creates, frames, destroys);
            assertThat(display.isOpen()).isTrue();
            assertThat(relay.device.resets()).as("one reset per open and per close")
                    .isEqualTo(2L * (CYCLES + WARM_UP));
        }
        assertThat(creates).isEqualTo(CYCLES);
        assertThat(frames).isEqualTo(CYCLES);
        assertThat(destroys).isEqualTo(CYCLES);
        Resources after = Resources.awaitBackTo(before);
        after.log("guest cycles", "after");
        assertThat(after.heapAfterGc()).isLessThanOrEqualTo(before.heapAfterGc() + Resources.HEAP_TOLERANCE);
    }

    /**
     * One open → START_STOP → FORMAT → DATA → (client sees the stream) → some partial message → close → (client sees the
     * stream and surface go). Returns {STREAM_CREATEs, matching STREAM_DATAs, STREAM_DESTROYs} seen.
     */
    private static int[] cycle(Relay relay, SpiceTestClient display, int i) throws Exception {
        int[] seen = new int[3];
        byte[] frame = frame(i);
        try (RawGuest guest = RawGuest.open(relay.socket, true)) {
            assertThat(guest.awaitStart(STEP).codecs()).contains(VideoCodec.MJPEG);
            guest.format(64, 48, VideoCodec.MJPEG);
            guest.frame(frame);
            Message create = display.next(MSG_STREAM_CREATE);
            seen[0]++;
            int streamId = create.buf().getIntLE(4);
            Message data = display.next(MSG_STREAM_DATA);
            assertThat(data.buf().getIntLE(0)).as("cycle %d: data of the new stream", i).isEqualTo(streamId);
            if (i % FULL_CHECK == 0) {
                assertThat(Arrays.copyOfRange(data.body(), STREAM_DATA_HEAD_SIZE, data.body().length))
                        .as("cycle %d: frame bytes", i).isEqualTo(frame);
            } else {
                assertThat(data.body()).hasSize(STREAM_DATA_HEAD_SIZE + frame.length);
            }
            seen[1]++;
            // Vanish somewhere inside the next message.
            switch (i % 5) {
                case 0 -> guest.partialFrame(256 * 1024, 100 * 1024); // mid-frame, spanning reads
                case 1 -> guest.partialFrame(4096, 1000); // mid-frame, inside one read
                case 2 -> guest.write(ByteBuffer.wrap(new byte[] {1, 0, 3})); // mid-header
                case 3 -> {
                    guest.format(320, 240, VideoCodec.MJPEG); // a new stream, then mid-frame
                    guest.partialFrame(1000, 999);
                }
                default -> { } // between messages
            }
        }
        if (i % 5 == 3) {
            display.next(MSG_STREAM_CREATE);
        }
        Message destroy = display.next(MSG_STREAM_DESTROY);
        assertThat(destroy).isNotNull();
        seen[2]++;
        display.next(MSG_SURFACE_DESTROY);
        return seen;
    }

    private static byte[] frame(int i) {
        byte[] f = new byte[200 + i % 300];
        ByteBuffer.wrap(f).putInt(i);
        f[f.length - 1] = (byte) i;
        return f;
    }
}
