package org.spicestream.reds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spicestream.reds.testclient.RecordingInputSink;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.reds.testclient.TestChannel;
import org.spicestream.testsupport.Vectors;

/** Main channel (B52–B56), sessions (B51) and inputs channel (B59, B60). */
class MainAndInputsTest {
    private static final Duration T = Duration.ofSeconds(10);
    private SpiceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private SpiceServer start(ServerConfig c) {
        server = SpiceServer.start(c.withListen(ListenConfig.of("127.0.0.1", 0)).withAuth(AuthConfig.TICKETING_DISABLED));
        return server;
    }

    private static byte[] body(String vector) {
        byte[] v = Vectors.bytes(vector);
        return Arrays.copyOfRange(v, 6, v.length);
    }

    @Test
    void channelsListThenLateChannelAnnouncedOnceAndIdsReused() {
        start(ServerConfig.DEFAULT);
        // inputs 0 is registered by the server; then display 0, cursor 0: newest first = the vector's order
        TestChannel display0 = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
        assertThat(server.channels().register(display0)).isZero();
        assertThat(server.channels().register(new TestChannel(SpiceChannelType.CURSOR, true, 1024))).isZero();
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            assertThat(main.next().type()).isEqualTo(SpiceMessages.MSG_MAIN_INIT);
            main.sendRaw(Vectors.bytes("c2s_attach_channels"));
            assertThat(main.next().withMiniHeader()).isEqualTo(Vectors.bytes("s2c_channels_list"));

            TestChannel display1 = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
            assertThat(server.channels().register(display1)).isEqualTo(1);
            assertThat(display1.id()).isEqualTo(1);
            assertThat(main.next().withMiniHeader()).isEqualTo(Vectors.bytes("s2c_channels_list_new_display1"));
            try (SpiceTestClient d1 = main.linkChannel(SpiceChannelType.DISPLAY, 1)) {
                assertThat(d1.linkResult()).isZero();
                assertThat(d1.next().type()).isEqualTo(SpiceMessages.MSG_SET_ACK);
                server.channels().unregister(display1);
                assertThat(d1.awaitClosed(T)).isTrue();
            }
            server.channels().unregister(display0);
            TestChannel again = new TestChannel(SpiceChannelType.DISPLAY, true, 1024);
            assertThat(server.channels().register(again)).isZero();
            SpiceTestClient.Message m = main.next();
            assertThat(m.withMiniHeader()).isEqualTo(new byte[] {104, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0});
            assertThat(server.channels().list()).extracting(RedChannel::name).containsExactly("display:0", "cursor:0", "inputs:0");
            assertThat(main.poll()).isNull();
        }
    }

    @Test
    void channelRegisteredBeforeAttachIsNotAnnouncedTwice() {
        start(ServerConfig.DEFAULT);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            main.next(SpiceMessages.MSG_MAIN_INIT);
            server.channels().register(new TestChannel(SpiceChannelType.DISPLAY, true, 1024));
            main.send(SpiceMessages.MSGC_MAIN_ATTACH_CHANNELS, new byte[0]);
            SpiceTestClient.Message list = main.next();
            assertThat(list.withMiniHeader()).isEqualTo(new byte[] {104, 0, 8, 0, 0, 0, 2, 0, 0, 0, 2, 0, 3, 0});
            main.send(SpiceMessages.MSGC_MAIN_MOUSE_MODE_REQUEST, new byte[] {1, 0}); // round trip marker
            assertThat(main.next().type()).isEqualTo(SpiceMessages.MSG_MAIN_MOUSE_MODE);
        }
    }

    @Test
    void replacePolicyDisconnectsTheOldSessionSharePolicyKeepsBoth() throws Exception {
        start(ServerConfig.DEFAULT);
        try (SpiceTestClient first = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient inputs = first.linkChannel(SpiceChannelType.INPUTS, 0);
                SpiceTestClient second = SpiceTestClient.connectMain(server.localAddress(), "")) {
            assertThat(second.linkResult()).isZero();
            // the replaced session is told why before its connections close (R12): reason ERROR, not OK (shutdown)
            assertThat(first.next(SpiceMessages.MSG_DISCONNECTING).buf().getIntLE(8)).isEqualTo(SpiceServer.REPLACED_REASON);
            assertThat(inputs.next(SpiceMessages.MSG_DISCONNECTING).buf().getIntLE(8)).isEqualTo(SpiceLinkError.ERROR);
            assertThat(first.awaitClosed(T)).isTrue();
            assertThat(inputs.awaitClosed(T)).isTrue();
            assertThat(second.isOpen()).isTrue();
            await().atMost(T).until(() -> server.sessions().size() == 1);
            assertThat(server.sessions().get(0).id()).isEqualTo(second.awaitSessionId());
        }
        server.close();
        start(ServerConfig.DEFAULT.withSessions(SessionConfig.DEFAULT.withPolicy(SessionPolicy.SHARE).withMaxSessions(2)));
        try (SpiceTestClient a = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient b = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient c = SpiceTestClient.connectMain(server.localAddress(), "")) {
            assertThat(a.linkResult()).isZero();
            assertThat(b.linkResult()).isZero();
            assertThat(c.linkResult()).isEqualTo(SpiceLinkError.ERROR);
            assertThat(a.awaitSessionId()).isNotEqualTo(b.awaitSessionId());
            assertThat(a.isOpen()).isTrue();
            // closing the main channel ends the session and its other channels
            SpiceTestClient bInputs = b.linkChannel(SpiceChannelType.INPUTS, 0);
            assertThat(bInputs.linkResult()).isZero();
            b.close();
            assertThat(bInputs.awaitClosed(T)).isTrue();
            await().atMost(T).until(() -> server.sessions().size() == 1);
        }
    }

    @Test
    void mouseModeClientGrantedOnlyWhenAllowed() {
        start(ServerConfig.DEFAULT);
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            main.next(SpiceMessages.MSG_MAIN_INIT);
            main.send(SpiceMessages.MSGC_MAIN_MOUSE_MODE_REQUEST, new byte[] {2, 0});
            main.send(SpiceMessages.MSGC_MAIN_ATTACH_CHANNELS, new byte[0]);
            assertThat(main.next().type()).isEqualTo(SpiceMessages.MSG_MAIN_CHANNELS_LIST); // request ignored
            assertThat(server.mouseMode()).isEqualTo(SpiceMessages.MOUSE_MODE_SERVER);
        }
        server.close();
        start(ServerConfig.DEFAULT.withInput(new InputConfig(InputSink.logging(), true)));
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            SpiceTestClient.Message init = main.next(SpiceMessages.MSG_MAIN_INIT);
            assertThat(init.buf().getIntLE(8)).isEqualTo(3);
            main.send(SpiceMessages.MSGC_MAIN_MOUSE_MODE_REQUEST, new byte[] {2, 0});
            assertThat(main.next().withMiniHeader()).isEqualTo(Vectors.bytes("s2c_mouse_mode"));
            assertThat(server.mouseMode()).isEqualTo(SpiceMessages.MOUSE_MODE_CLIENT);
        }
    }

    @Test
    void inputsInitNotifyMotionAcksEventsAndKeyReleaseOnDisconnect() {
        RecordingInputSink sink = new RecordingInputSink(SpiceMessages.KEY_MODIFIER_NUM_LOCK);
        start(ServerConfig.DEFAULT.withInputSink(sink));
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "")) {
            main.next(SpiceMessages.MSG_MAIN_INIT);
            SpiceTestClient inputs = main.linkChannel(SpiceChannelType.INPUTS, 0);
            assertThat(inputs.linkReply().channelCaps()).containsExactly(1); // KEY_SCANCODE
            assertThat(inputs.next().withMiniHeader()).isEqualTo(Vectors.bytes("s2c_inputs_init"));
            SpiceTestClient.Message notify = main.next(SpiceMessages.MSG_NOTIFY);
            assertThat(notify.buf().getIntLE(8)).isEqualTo(SpiceMessages.NOTIFY_SEVERITY_WARN);
            assertThat(notify.buf().getIntLE(12)).isEqualTo(SpiceMessages.NOTIFY_VISIBILITY_HIGH);
            assertThat(new String(notify.body(), 24, notify.buf().getIntLE(20), StandardCharsets.UTF_8))
                    .isEqualTo("keyboard channel is insecure");

            for (int i = 0; i < 7; i++) {
                inputs.send(SpiceMessages.MSGC_INPUTS_MOUSE_MOTION, new byte[] {5, 0, 0, 0, (byte) 0xfd, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0});
            }
            inputs.sendRaw(Vectors.bytes("c2s_mouse_position"));
            assertThat(inputs.next().withMiniHeader()).isEqualTo(Vectors.bytes("s2c_inputs_mouse_motion_ack"));
            assertThat(inputs.next().type()).isEqualTo(SpiceMessages.MSG_INPUTS_MOUSE_MOTION_ACK);
            for (int i = 0; i < 7; i++) {
                assertThat(sink.next()).isEqualTo("motion 5 -3 0");
            }
            assertThat(sink.next()).isEqualTo("position 100 200 1 0");

            inputs.sendRaw(Vectors.bytes("c2s_key_scancode_a"));
            assertThat(sink.next()).isEqualTo("press 1e");
            assertThat(sink.next()).isEqualTo("release 1e");
            inputs.send(SpiceMessages.MSGC_INPUTS_KEY_DOWN, new byte[] {(byte) 0xe0, 0x1d, 0, 0}); // right Ctrl down
            assertThat(sink.next()).isEqualTo("press e01d");
            inputs.send(SpiceMessages.MSGC_INPUTS_KEY_DOWN, new byte[] {0x2a, 0, 0, 0}); // left Shift down
            assertThat(sink.next()).isEqualTo("press 2a");
            inputs.send(SpiceMessages.MSGC_INPUTS_KEY_UP, new byte[] {(byte) 0xaa, 0, 0, 0});
            assertThat(sink.next()).isEqualTo("release 2a");
            inputs.send(SpiceMessages.MSGC_INPUTS_MOUSE_PRESS, new byte[] {1, 1, 0});
            assertThat(sink.next()).isEqualTo("mouse-press 1 1");
            inputs.send(SpiceMessages.MSGC_INPUTS_KEY_MODIFIERS, new byte[] {4, 0});
            assertThat(sink.next()).isEqualTo("modifiers 4");

            inputs.close();
            assertThat(sink.next()).isEqualTo("release e01d");
            assertThat(sink.next()).isEqualTo("release-all");
            assertThat(main.isOpen()).isTrue();
        }
    }

    @Test
    void inputsMessageTooShortOrTooLargeDisconnects() throws Exception {
        RecordingInputSink sink = new RecordingInputSink();
        start(ServerConfig.DEFAULT.withInputSink(sink));
        try (SpiceTestClient main = SpiceTestClient.connectMain(server.localAddress(), "");
                SpiceTestClient inputs = main.linkChannel(SpiceChannelType.INPUTS, 0);
                SpiceTestClient inputs2 = main.linkChannel(SpiceChannelType.INPUTS, 0)) {
            inputs.send(SpiceMessages.MSGC_INPUTS_MOUSE_MOTION, new byte[] {1, 2});
            assertThat(inputs.awaitClosed(T)).isTrue();
            inputs2.send(SpiceMessages.MSGC_INPUTS_KEY_SCANCODE, new byte[2049]);
            assertThat(inputs2.awaitClosed(T)).isTrue();
            assertThat(sink.events().poll(100, TimeUnit.MILLISECONDS)).isEqualTo("release-all");
            assertThat(main.isOpen()).isTrue();
        }
    }
}
