package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link CharDevice} over a real (in-VM) Netty channel: B5–B7 with R5's order, write queue, pausing, B10. */
class CharDeviceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private EventLoopGroup group;
    private LocalGuestTransport transport;
    private TestDevice device;
    private final List<LocalGuest> guests = new ArrayList<>();

    /** Records its hooks; sends CAPS on open and, when asked, START_STOP on every reset. */
    static final class TestDevice extends CharDevice {
        final List<String> hooks = new ArrayList<>();
        final StringBuilder data = new StringBuilder();
        boolean startStopOnReset;

        TestDevice(LocalGuestTransport transport, int maxBytes, int maxWrites) {
            super("test-device", transport, maxBytes, maxWrites);
        }

        @Override
        protected void onPortOpened() {
            hooks.add("opened");
            hooks.add("CAPS written: " + send("CAPS|"));
        }

        @Override
        protected void onReset() {
            hooks.add("reset");
            if (startStopOnReset) {
                hooks.add("START_STOP written: " + send("START_STOP|"));
            }
        }

        @Override
        protected void onPortClosed() {
            hooks.add("closed");
        }

        @Override
        protected void onData(ByteBuf borrowed) {
            String s = borrowed.toString(StandardCharsets.ISO_8859_1);
            if (s.contains("BAD")) {
                send("NOTIFY_ERROR|");
                enterErrorState("guest sent BAD");
                return;
            }
            if (s.contains("THROW")) {
                throw new IllegalStateException("handler bug");
            }
            data.append(s);
        }

        boolean send(String ascii) {
            return writeToGuest(Unpooled.copiedBuffer(ascii, StandardCharsets.ISO_8859_1));
        }
    }

    @BeforeEach
    void setUp() {
        group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        transport = new LocalGuestTransport(group, "char-device-test");
        newDevice(CharDevice.DEFAULT_MAX_QUEUED_WRITE_BYTES, CharDevice.DEFAULT_MAX_QUEUED_WRITES);
    }

    private void newDevice(int maxBytes, int maxWrites) {
        device = new TestDevice(transport, maxBytes, maxWrites);
    }

    @AfterEach
    void tearDown() {
        guests.forEach(LocalGuest::close);
        transport.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private <T> T onLoop(Callable<T> c) throws Exception {
        return device.executor().submit(c).get();
    }

    private LocalGuest connectGuest() {
        LocalGuest g = LocalGuest.connect(group, transport.address());
        guests.add(g);
        return g;
    }

    private List<String> hooks() throws Exception {
        return onLoop(() -> List.copyOf(device.hooks));
    }

    private String data() throws Exception {
        return onLoop(() -> device.data.toString());
    }

    @Test
    void b5_r5_portOpenedResetsFirstThenCapabilitiesThenChannelReset() throws Exception {
        device.startStopOnReset = true;
        device.start();

        LocalGuest guest = connectGuest();

        await().atMost(TIMEOUT).until(() -> guest.received().equals("CAPS|START_STOP|"));
        assertThat(hooks()).containsExactly("opened", "CAPS written: true", "reset", "START_STOP written: true");
        assertThat(device.isPortOpen()).isTrue();
        assertThat(device.resets()).isEqualTo(1);
        assertThat(device.bytesOut()).isEqualTo("CAPS|START_STOP|".length());
    }

    @Test
    void b6_portClosedResetsAndDropsWritesMadeWhileClosed() throws Exception {
        device.startStopOnReset = true;
        device.start();
        LocalGuest guest = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));

        guest.close();

        await().atMost(TIMEOUT).until(() -> !onLoop(device::isPortOpen));
        assertThat(hooks()).containsExactly("opened", "CAPS written: true", "reset", "START_STOP written: true",
                "closed", "reset", "START_STOP written: false");
        assertThat(device.resets()).isEqualTo(2);
        assertThat(onLoop(() -> device.send("late"))).isFalse();
    }

    @Test
    void b5_reopenDropsHostToGuestWritesNotYetHandedToThePort() throws Exception {
        device.start();
        LocalGuest first = connectGuest();
        await().atMost(TIMEOUT).until(() -> first.received().equals("CAPS|"));
        transport.setGuestBusy(true);
        assertThat(onLoop(() -> device.send("stale-1|") && device.send("stale-2|"))).isTrue();
        assertThat(onLoop(device::queuedWrites)).isEqualTo(2);

        first.close();
        await().atMost(TIMEOUT).until(() -> !onLoop(device::isPortOpen));
        assertThat(onLoop(device::queuedWrites)).isZero();
        LocalGuest second = connectGuest();

        await().atMost(TIMEOUT).until(() -> second.received().equals("CAPS|"));
        assertThat(onLoop(() -> device.send("fresh|"))).isTrue();
        await().atMost(TIMEOUT).until(() -> second.received().equals("CAPS|fresh|"));
        assertThat(first.received()).isEqualTo("CAPS|");
    }

    @Test
    void boundedWriteQueueDropsOverflowCountsItAndRecovers() throws Exception {
        newDevice(1000, 3);
        device.start();
        LocalGuest guest = connectGuest();
        await().atMost(TIMEOUT).until(() -> guest.received().equals("CAPS|"));
        transport.setGuestBusy(true);

        assertThat(onLoop(() -> List.of(device.send("a|"), device.send("b|"), device.send("c|"), device.send("d|"))))
                .containsExactly(true, true, true, false);
        assertThat(device.droppedWrites()).isEqualTo(1);
        assertThat(onLoop(device::queuedWrites)).isEqualTo(3);

        transport.setGuestBusy(false);
        await().atMost(TIMEOUT).until(() -> guest.received().equals("CAPS|a|b|c|"));
        assertThat(onLoop(device::queuedWrites)).isZero();

        // The byte bound applies too, and the queue works again after overflowing.
        transport.setGuestBusy(true);
        String big = "x".repeat(600);
        assertThat(onLoop(() -> List.of(device.send(big), device.send(big), device.send("e|"))))
                .containsExactly(true, false, true);
        assertThat(device.droppedWrites()).isEqualTo(2);
        transport.setGuestBusy(false);
        await().atMost(TIMEOUT).until(() -> guest.received().equals("CAPS|a|b|c|" + big + "e|"));
    }

    @Test
    void readingResumesOnlyWhenEveryPauseReasonIsGone() throws Exception {
        device.start();
        LocalGuest guest = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));
        onLoop(() -> {
            device.pauseReading("clients full");
            device.pauseReading("no channel");
            device.pauseReading("no channel");
            return null;
        });

        guest.send("one|");
        guest.send("two|");
        // Several round trips through the loop: nothing must be delivered while paused.
        for (int i = 0; i < 5; i++) {
            assertThat(data()).isEmpty();
        }
        assertThat(device.pauseReasons()).containsExactlyInAnyOrder("clients full", "no channel");

        device.resumeReading("clients full"); // from the test thread: hops to the executor
        assertThat(onLoop(device::isReadingPaused)).isTrue();
        assertThat(data()).isEmpty();

        device.resumeReading("no channel");
        await().atMost(TIMEOUT).until(() -> data().equals("one|two|"));
        assertThat(device.isReadingPaused()).isFalse();
        assertThat(device.bytesIn()).isEqualTo(8);
    }

    @Test
    void pauseReasonsSurviveAPortReset() throws Exception {
        device.start();
        LocalGuest first = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));
        device.pauseReading("clients full");
        first.close();
        await().atMost(TIMEOUT).until(() -> !onLoop(device::isPortOpen));

        LocalGuest second = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));
        second.send("kept|");
        assertThat(data()).isEmpty();

        device.resumeReading("clients full");
        await().atMost(TIMEOUT).until(() -> data().equals("kept|"));
    }

    @Test
    void b10_errorStateDiscardsGuestDataDisablesThePortAndHoldsUntilReopen() throws Exception {
        device.start();
        LocalGuest first = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));
        first.send("good|");
        await().atMost(TIMEOUT).until(() -> data().equals("good|"));

        // BAD and what follows in the same delivery are discarded; the guest gets the notice, then the port is
        // disabled (its connection dropped) once that notice was flushed.
        first.send("BAD|after|");
        await().atMost(TIMEOUT).until(first::isClosed);
        assertThat(first.received()).isEqualTo("CAPS|NOTIFY_ERROR|");
        assertThat(data()).isEqualTo("good|");
        assertThat(device.errors()).isEqualTo(1);
        await().atMost(TIMEOUT).until(() -> !onLoop(device::isPortOpen));
        assertThat(device.isInErrorState()).isFalse();

        LocalGuest second = connectGuest();
        await().atMost(TIMEOUT).until(() -> second.received().equals("CAPS|"));
        second.send("recovered|");
        await().atMost(TIMEOUT).until(() -> data().equals("good|recovered|"));
    }

    @Test
    void b10_guestDataIsDiscardedWhileInErrorStateEvenWhenPaused() throws Exception {
        device.start();
        LocalGuest guest = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));
        // Keep the port from being disabled so that data keeps coming in the error state.
        transport.setGuestBusy(true);
        guest.send("BAD|");
        await().atMost(TIMEOUT).until(() -> onLoop(device::isInErrorState));
        device.pauseReading("clients full");

        guest.send("ignored|");

        await().atMost(TIMEOUT).until(() -> device.bytesDiscarded() == "ignored|".length());
        assertThat(data()).isEmpty();
        assertThat(onLoop(device::isPortOpen)).isTrue();
        assertThat(device.isReadingPaused()).isTrue();
    }

    @Test
    void anExceptionFromTheSubclassEntersTheErrorState() throws Exception {
        device.start();
        LocalGuest guest = connectGuest();
        await().atMost(TIMEOUT).until(() -> onLoop(device::isPortOpen));

        guest.send("THROW");

        await().atMost(TIMEOUT).until(() -> device.errors() == 1);
        await().atMost(TIMEOUT).until(guest::isClosed);
    }

    @Test
    void writingOutsideTheExecutorIsRejectedAndReleases() throws Exception {
        device.start();
        ByteBuf buf = Unpooled.buffer(1).writeByte(1);

        assertThatThrownBy(() -> device.writeToGuest(buf)).isInstanceOf(IllegalStateException.class);
        assertThat(buf.refCnt()).isZero();
    }

    @Test
    void limitsAreNamedAndSane() {
        assertThat(CharDevice.DEFAULT_MAX_QUEUED_WRITE_BYTES).isPositive();
        assertThat(CharDevice.DEFAULT_MAX_QUEUED_WRITES).isPositive();
        assertThatThrownBy(() -> new TestDevice(transport, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
