package org.spicestream.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/** Property-style: arbitrary valid messages survive encoder → random splits → decoder, in both directions. */
class RoundTripTest {

    static GuestMessage randomGuestMessage(Random r) {
        switch (r.nextInt(7)) {
            case 0: {
                byte[] bitmap = new byte[r.nextInt(StreamLimits.CAPABILITIES_MAX_BYTES + 1)];
                r.nextBytes(bitmap);
                return Capabilities.ofBitmap(bitmap);
            }
            case 1:
                return new Format(1 + r.nextInt(8192), 1 + r.nextInt(8192),
                        VideoCodec.values()[r.nextInt(VideoCodec.values().length)]);
            case 2: {
                byte[] frame = new byte[r.nextInt(4) == 0 ? r.nextInt(300_000) : r.nextInt(2000)];
                r.nextBytes(frame);
                return new Data(Unpooled.wrappedBuffer(frame));
            }
            case 3: {
                CursorType type = CursorType.values()[r.nextInt(CursorType.values().length)];
                int w = r.nextInt(65);
                int h = r.nextInt(65);
                byte[] pixels = new byte[type.requiredDataBytes(w, h)];
                r.nextBytes(pixels);
                return CursorSet.of(w, h, r.nextInt(0x10000), r.nextInt(0x10000), type, pixels);
            }
            case 4:
                return new CursorMove(r.nextInt(), r.nextInt());
            case 5: {
                StringBuilder address = new StringBuilder("pci/");
                int len = r.nextInt(251);
                for (int i = 0; i < len; i++) {
                    address.append((char) (0x20 + r.nextInt(0x5f)));
                }
                return new DeviceDisplayInfo(r.nextLong() & 0xffffffffL, r.nextLong() & 0xffffffffL,
                        address.toString());
            }
            default: {
                StringBuilder text = new StringBuilder();
                int len = r.nextInt(1000);
                for (int i = 0; i < len; i++) {
                    text.append((char) (0x20 + r.nextInt(0x5f)));
                }
                return new QualityIndicator(text.toString());
            }
        }
    }

    static HostMessage randomHostMessage(Random r) {
        switch (r.nextInt(3)) {
            case 0:
                return Capabilities.of(r.nextInt(16));
            case 1: {
                List<VideoCodec> codecs = new ArrayList<>(List.of(VideoCodec.values()));
                java.util.Collections.shuffle(codecs, r);
                return new StartStop(codecs.subList(0, r.nextInt(codecs.size() + 1)));
            }
            default:
                return new NotifyError(r.nextInt(), "error " + r.nextInt(1000));
        }
    }

    @RepeatedTest(40)
    void guestMessages(RepetitionInfo repetition) {
        Random r = new Random(0x5eed_0000L + repetition.getCurrentRepetition());
        List<GuestMessage> sent = new ArrayList<>();
        ByteBuf wire = Unpooled.buffer();
        for (int i = 0; i < 30; i++) {
            GuestMessage m = randomGuestMessage(r);
            sent.add(m);
            ByteBuf encoded = StreamMessages.encode(m, ByteBufAllocator.DEFAULT);
            wire.writeBytes(encoded);
            encoded.release();
        }
        byte[] bytes = ByteBufUtil.getBytes(wire);
        wire.release();
        try (Feed feed = new Feed()) {
            feed.write(bytes, randomCuts(r, bytes.length));
            assertThat(feed.errors).isEmpty();
            assertThat(feed.messages).isEqualTo(sent);
        }
    }

    @RepeatedTest(20)
    void hostMessages(RepetitionInfo repetition) {
        Random r = new Random(0x0057_0000L + repetition.getCurrentRepetition());
        List<HostMessage> sent = new ArrayList<>();
        ByteBuf wire = Unpooled.buffer();
        for (int i = 0; i < 30; i++) {
            HostMessage m = randomHostMessage(r);
            sent.add(m);
            ByteBuf encoded = StreamMessages.encode(m, ByteBufAllocator.DEFAULT);
            wire.writeBytes(encoded);
            encoded.release();
        }
        List<HostMessage> got = new ArrayList<>();
        HostStreamParser parser = new HostStreamParser();
        byte[] bytes = ByteBufUtil.getBytes(wire);
        wire.release();
        int start = 0;
        for (int cut : randomCuts(r, bytes.length)) {
            parser.parse(Unpooled.wrappedBuffer(bytes, start, cut - start), got::add);
            start = cut;
        }
        parser.parse(Unpooled.wrappedBuffer(bytes, start, bytes.length - start), got::add);
        assertThat(got).isEqualTo(sent);
    }

    static int[] randomCuts(Random r, int length) {
        int count = r.nextInt(Math.min(200, length));
        return r.ints(count, 1, length).distinct().sorted().toArray();
    }
}
