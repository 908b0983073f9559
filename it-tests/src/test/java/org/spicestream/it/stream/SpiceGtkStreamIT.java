package org.spicestream.it.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.it.clients.SpiceGtkProbe;
import org.spicestream.testsupport.media.EncodedStream;
import org.spicestream.testsupport.media.MediaSpec;
import org.spicestream.testsupport.media.RgbImage;
import org.spicestream.testsupport.media.TestMedia;
import org.spicestream.testsupport.media.VideoCodec;
import org.spicestream.reds.ServerConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceChannelType;
import org.spicestream.reds.testclient.SpiceTestClient;
import org.spicestream.streamchannel.StreamChannel;
import org.spicestream.streamchannel.internal.DisplayMessages;
import org.spicestream.testsupport.ExternalTools;

/**
 * spice-gtk, the real client, shows the guest's stream in every codec: the picture it draws is one of the frames
 * the guest encoded (PSNR against that frame's decode), and it receives the guest's cursor.
 */
class SpiceGtkStreamIT {

    private static final Logger LOG = LoggerFactory.getLogger(SpiceGtkStreamIT.class);

    /** The notes measured ≈ 53 dB (MJPEG) and ≈ 45 dB (others) against ffmpeg's decode; a wrong frame is far below. */
    static final double MIN_PSNR_DB = 35;

    @ParameterizedTest
    @EnumSource(VideoCodec.class)
    void spiceGtkShowsTheStream(VideoCodec codec, @TempDir Path dir) throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
        EncodedStream stream = TestMedia.get(MediaSpec.of(codec, 320, 240, 60));
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
            try (TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(codec, stream), 30).open()) {
                Path png = dir.resolve("shown.png");
                SpiceGtkProbe.Result seen = SpiceGtkProbe.run(relay.server.localAddress(), null, 20, png, 40);
                LOG.info("{}: spice-gtk saw {}", codec, seen);
                assertThat(seen.string("error")).as(seen.output()).isEmpty();
                assertThat(seen.flag("display_opened")).isTrue();
                assertThat(seen.number("primary_width")).isEqualTo(320);
                assertThat(seen.number("primary_height")).isEqualTo(240);
                assertThat(seen.number("invalidates")).isGreaterThanOrEqualTo(20);
                assertThat(guest.formats()).containsExactly("320x240 " + codec.name());

                RgbImage shown = RgbImage.read(png);
                double best = 0;
                int bestIndex = -1;
                for (int i = 0; i < stream.frameCount(); i++) {
                    double psnr = TestMedia.psnr(shown, stream.decodedFrame(i));
                    if (psnr > best) {
                        best = psnr;
                        bestIndex = i;
                    }
                }
                LOG.info("{}: the shown picture is frame {} at {} dB", codec, bestIndex, String.format("%.1f", best));
                assertThat(best).as("PSNR of the shown picture against the closest guest frame").isGreaterThan(MIN_PSNR_DB);
                assertThat(seen.number("cursor_sets")).as("the guest's cursor shape reached the client")
                        .isGreaterThanOrEqualTo(1);
            }
        }
    }

    static double bestPsnr(Path png, EncodedStream stream) {
        RgbImage shown = RgbImage.read(png);
        double best = 0;
        for (int i = 0; i < stream.frameCount(); i++) {
            best = Math.max(best, TestMedia.psnr(shown, stream.decodedFrame(i)));
        }
        return best;
    }

    @Test
    void mjpegAt30FpsFor10SecondsIsShownFrameByFrame(@TempDir Path dir) throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
        EncodedStream stream = TestMedia.mjpeg(320, 240, 60);
        try (StreamRelay relay = new StreamRelay(SessionPolicy.REPLACE)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
            try (TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), 30).open()) {
                Path png = dir.resolve("shown.png");
                SpiceGtkProbe.Result seen = SpiceGtkProbe.runFor(relay.server.localAddress(), 10, png);
                LOG.info("MJPEG 30 fps, 10 s: spice-gtk showed {} frames (guest sent {} in all), PSNR {} dB",
                        seen.number("window_invalidates"), guest.framesSent(), String.format("%.1f",
                                bestPsnr(png, stream)));
                assertThat(seen.string("error")).as(seen.output()).isEmpty();
                assertThat(seen.number("primary_width")).isEqualTo(320);
                assertThat(seen.number("window_invalidates")).as("≥ 90 % of 300 frames")
                        .isGreaterThanOrEqualTo(270);
                assertThat(bestPsnr(png, stream)).isGreaterThan(30);
            }
        }
    }

    @Test
    void anH264ClientJoiningMidStreamShowsAPictureFromTheNextIdr(@TempDir Path dir) throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
        EncodedStream stream = TestMedia.get(MediaSpec.of(VideoCodec.H264, 320, 240, 90).withGop(30));
        try (StreamRelay relay = new StreamRelay(SessionPolicy.SHARE, b -> b)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
            try (TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.H264, stream), 30).open();
                    SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(),
                            SpiceTestClient.options());
                    SpiceTestClient first = main.linkChannel(SpiceChannelType.DISPLAY, 0,
                            DisplayMessages.CAP_STREAM_REPORT, 9, 11)) {
                first.next(DisplayMessages.MSG_STREAM_DATA);
                await().until(() -> guest.framesSent() > 40); // mid-GOP: frame 40 of a 30-frame GOP
                Path png = dir.resolve("joined.png");
                SpiceGtkProbe.Result seen = SpiceGtkProbe.run(relay.server.localAddress(), null, 10, png, 40);
                double psnr = bestPsnr(png, stream);
                LOG.info("H.264 mid-stream join: spice-gtk showed {} frames, PSNR {} dB, guest formats {}",
                        seen.number("invalidates"), String.format("%.1f", psnr), guest.formats());
                assertThat(seen.string("error")).as(seen.output()).isEmpty();
                assertThat(psnr).as("a correct picture, decoded from an IDR on").isGreaterThan(MIN_PSNR_DB);
                assertThat(guest.formats()).as("the join needed no restart").hasSize(1);
            }
        }
    }

    @Test
    void aJavaClientThatStopsReadingDoesNotSlowSpiceGtk(@TempDir Path dir) throws Exception {
        ExternalTools.require("ffmpeg", "ffmpeg");
        SpiceGtkProbe.requireSpiceGtk();
        EncodedStream stream = TestMedia.mjpeg(320, 240, 60);
        long queueBound = 2L * 1024 * 1024;
        try (StreamRelay relay = new StreamRelay(SessionPolicy.SHARE, b -> b.withConnection(b.connection().withSendQueue(queueBound, ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_MESSAGES)))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(relay.socket));
            try (TestGuestAgent guest = new TestGuestAgent(relay.socket, Map.of(VideoCodec.MJPEG, stream), 30).open();
                    SpiceTestClient main = SpiceTestClient.connect(relay.server.localAddress(),
                            SpiceTestClient.options());
                    SpiceTestClient stalled = main.linkChannel(SpiceChannelType.DISPLAY, 0)) {
                stalled.next(DisplayMessages.MSG_STREAM_CREATE);
                stalled.setAutoAck(false); // from here on it never acknowledges: the server must queue, then drop
                Path png = dir.resolve("shown.png");
                SpiceGtkProbe.Result seen = SpiceGtkProbe.runFor(relay.server.localAddress(), 10, png);
                List<StreamChannel.ClientStats> stats = new java.util.concurrent.CopyOnWriteArrayList<>();
                relay.onDevice(() -> stats.addAll(relay.device.streamChannel().clientStats()));
                LOG.info("stalled Java client + spice-gtk: spice-gtk showed {} frames in 10 s; clients {}",
                        seen.number("window_invalidates"), stats);
                assertThat(seen.string("error")).as(seen.output()).isEmpty();
                assertThat(seen.number("window_invalidates")).as("≥ 90 % of 300 frames")
                        .isGreaterThanOrEqualTo(270);
                assertThat(stats).allSatisfy(s -> assertThat(s.queuedBytes()).isLessThanOrEqualTo(queueBound));
                assertThat(stats).anySatisfy(s -> assertThat(s.framesDropped()).isPositive());
                assertThat(bestPsnr(png, stream)).isGreaterThan(30);
            }
        }
    }
}
