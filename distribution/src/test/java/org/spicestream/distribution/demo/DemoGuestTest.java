package org.spicestream.distribution.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.protocol.Capabilities;
import org.spicestream.protocol.CursorMove;
import org.spicestream.protocol.CursorSet;
import org.spicestream.protocol.CursorType;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.GuestMessage;
import org.spicestream.protocol.GuestStreamParser;
import org.spicestream.protocol.HostMessage;
import org.spicestream.protocol.StartStop;
import org.spicestream.protocol.StreamMessages;
import org.spicestream.protocol.VideoCodec;

/** The demo guest against a host played by the test over a real Unix socket. */
class DemoGuestTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A guest message as the test keeps it (DATA copied out, so nothing stays reference counted). */
    private record Received(GuestMessage message, byte[] data) {}

    @Test
    void answersCapabilitiesStreamsMjpegWithCursorOnStartAndStopsOnEmptyStartStop(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("g.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            DemoGuest guest = new DemoGuest(UnixDomainSocketAddress.of(socket), new DemoGuest.Options(160, 120, 30, 0.7f));
            try {
                guest.start();
                try (SocketChannel host = server.accept()) {
                    BlockingQueue<Received> in = new LinkedBlockingQueue<>();
                    Thread reader = startReader(host, in);

                    send(host, Capabilities.of(Capabilities.QUALITY_INDICATOR));
                    assertThat(next(in).message()).isInstanceOf(Capabilities.class);
                    assertThat(guest.isStreaming()).isFalse();

                    send(host, StartStop.of(VideoCodec.MJPEG, VideoCodec.H264));
                    assertThat(next(in).message()).isEqualTo(new Format(160, 120, VideoCodec.MJPEG));
                    GuestMessage cursor = next(in).message();
                    assertThat(cursor).isInstanceOf(CursorSet.class);
                    assertThat(((CursorSet) cursor).cursorType()).isEqualTo(CursorType.ALPHA);
                    assertThat(((CursorSet) cursor).width()).isEqualTo(32);

                    List<byte[]> frames = new ArrayList<>();
                    while (frames.size() < 3) {
                        Received r = next(in);
                        if (r.message() instanceof Data) {
                            frames.add(r.data());
                            assertThat(next(in).message()).isInstanceOf(CursorMove.class);
                        }
                    }
                    for (byte[] jpeg : frames) {
                        assertThat(jpeg[0] & 0xff).isEqualTo(0xff);
                        assertThat(jpeg[1] & 0xff).isEqualTo(0xd8);
                        assertThat(jpeg[jpeg.length - 2] & 0xff).isEqualTo(0xff);
                        assertThat(jpeg[jpeg.length - 1] & 0xff).isEqualTo(0xd9);
                        BufferedImage img = ImageIO.read(new ByteArrayInputStream(jpeg));
                        assertThat(img.getWidth()).isEqualTo(160);
                        assertThat(img.getHeight()).isEqualTo(120);
                    }
                    assertThat(frames.get(0)).isNotEqualTo(frames.get(2)); // the pattern moves

                    send(host, StartStop.STOP);
                    await().atMost(TIMEOUT).until(() -> !guest.isStreaming());
                    host.close();
                    reader.join(TIMEOUT.toMillis());
                }
                // the guest reconnects after the host closed the port
                try (SocketChannel again = server.accept()) {
                    await().atMost(TIMEOUT).until(() -> guest.connections() >= 2);
                }
            } finally {
                guest.close();
            }
        }
    }

    @Test
    void cursorIsA32x32AlphaArrowWithOpaqueAndTransparentPixels() {
        CursorSet c = DemoGuest.arrowCursor();
        assertThat(c.width()).isEqualTo(32);
        assertThat(c.height()).isEqualTo(32);
        byte[] p = c.pixels();
        assertThat(p).hasSize(32 * 32 * 4);
        assertThat(p[(31 * 32 + 31) * 4 + 3]).isZero(); // bottom-right pixel transparent
        int opaque = 0;
        for (int i = 3; i < p.length; i += 4) {
            opaque += (p[i] & 0xff) == 0xff ? 1 : 0;
        }
        assertThat(opaque).isGreaterThan(50);
    }

    private static Received next(BlockingQueue<Received> in) throws InterruptedException {
        Received r = in.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(r).as("a guest message within %s", TIMEOUT).isNotNull();
        return r;
    }

    private static void send(SocketChannel ch, HostMessage m) throws IOException {
        ByteBuf b = StreamMessages.encode(m, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT);
        try {
            ByteBuffer nio = b.nioBuffer();
            while (nio.hasRemaining()) {
                ch.write(nio);
            }
        } finally {
            b.release();
        }
    }

    private static Thread startReader(SocketChannel ch, BlockingQueue<Received> out) {
        Thread t = new Thread(() -> {
            GuestStreamParser parser = new GuestStreamParser();
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            try {
                while (ch.read(buf.clear()) >= 0) {
                    buf.flip();
                    ByteBuf b = Unpooled.buffer(buf.remaining()).writeBytes(buf);
                    try {
                        parser.parse(b, m -> {
                            if (m instanceof Data d) {
                                try {
                                    out.add(new Received(d, ByteBufUtil.getBytes(d.content())));
                                } finally {
                                    d.release();
                                }
                            } else {
                                out.add(new Received(m, null));
                            }
                        });
                    } finally {
                        b.release();
                    }
                }
            } catch (IOException e) {
                // closed by the test
            }
        }, "test-host-reader");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
