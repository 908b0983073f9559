package org.spicestream.it.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.it.clients.SpiceGtkProbe;
import org.spicestream.it.media.EncodedStream;
import org.spicestream.it.media.MediaSpec;
import org.spicestream.it.media.RgbImage;
import org.spicestream.it.media.TestMedia;
import org.spicestream.it.media.VideoCodec;
import org.spicestream.reds.SessionPolicy;
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
}
