package org.spicestream.device.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Guest reads: sized by the hint, several per wake-up, and landing in recycled buffers (over a real socket). */
class GuestReadAllocatorTest {

    private static final int FRAME = 100 * 1024;
    private static final int FRAMES = 300;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void aReadAsksForTheAnnouncedRestUpToTheLargestFrameRead() {
        TransportContext ctx = TransportContext.of(group, "test").withMaxFrameReadSize(256 * 1024);
        GuestReadAllocator alloc = new GuestReadAllocator(ctx, () -> 0);
        assertThat(alloc.readSize(2048, 0)).isEqualTo(2048);
        assertThat(alloc.readSize(2048, 1000)).isEqualTo(2048);
        assertThat(alloc.readSize(2048, 100_000)).isEqualTo(100_000);
        assertThat(alloc.readSize(2048, 10_000_000)).isEqualTo(256 * 1024);
    }

    @Test
    void aShortReadIsFollowedByAnotherWhileAFramesRestIsAnnounced() {
        AtomicLong pending = new AtomicLong();
        GuestReadAllocator allocator = new GuestReadAllocator(TransportContext.of(group, "test"),
                () -> (int) pending.get());
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            RecvByteBufAllocator.Handle handle = allocator.newHandle();
            handle.reset(ch.config());
            ByteBuf buf = handle.allocate(ch.alloc());
            handle.attemptedBytesRead(buf.writableBytes());
            handle.lastBytesRead(buf.writableBytes() / 2); // the socket had less than asked for
            handle.incMessagesRead(1);
            buf.release();
            assertThat(handle.continueReading()).as("nothing announced: wait for readiness").isFalse();
            pending.set(10_000);
            assertThat(handle.continueReading()).as("a frame's rest is coming: read again").isTrue();
            ch.config().setAutoRead(false);
            assertThat(handle.continueReading()).as("paused").isFalse();
            ch.config().setAutoRead(true);
            for (int i = 1; i < GuestReadAllocator.MAX_READS_PER_WAKEUP; i++) {
                handle.incMessagesRead(1);
            }
            assertThat(handle.continueReading()).as("reads per wake-up bounded").isFalse();
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void streamingFramesReusesTheSameFewReadBuffers() throws Exception {
        // A frame holds slices of the reads it arrived in until it is complete, as queued frames do.
        Frames frames = new Frames();
        GuestReadAllocator allocator = new GuestReadAllocator(TransportContext.of(group, "test"), frames::pending);
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, allocator)
                .childHandler(frames)
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try (SocketChannel guest = SocketChannel.open(server.localAddress())) {
            ByteBuffer frame = ByteBuffer.allocate(FRAME);
            for (int i = 0; i < FRAMES; i++) {
                frame.clear();
                while (frame.hasRemaining()) {
                    guest.write(frame);
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> frames.complete.get() == FRAMES);
        } finally {
            server.close().sync();
        }
        assertThat(frames.bytes.get()).isEqualTo((long) FRAME * FRAMES);
        // A wake-up reads on while reads fill their buffers or a frame's rest is announced: fewer waits than reads.
        assertThat(frames.reads.get()).isGreaterThan(frames.wakeups.get());
        // Without recycling every read makes a buffer; with it, a handful serve all of them.
        long reads = allocator.buffers().created() + allocator.buffers().reused();
        assertThat(reads).isGreaterThanOrEqualTo(FRAMES);
        assertThat(allocator.buffers().created()).isLessThanOrEqualTo(8);
        await().atMost(Duration.ofSeconds(10)).until(() -> allocator.buffers().idle() == allocator.buffers().created()
                - allocator.buffers().freed());
    }

    @io.netty.channel.ChannelHandler.Sharable
    private static final class Frames extends ChannelInboundHandlerAdapter {
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong complete = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong wakeups = new AtomicLong();
        private final List<ByteBuf> pieces = new ArrayList<>();
        private volatile int rest = FRAME;

        int pending() {
            return rest;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            reads.incrementAndGet();
            try {
                while (in.isReadable()) {
                    int n = Math.min(rest, in.readableBytes());
                    pieces.add(in.readRetainedSlice(n));
                    bytes.addAndGet(n);
                    rest -= n;
                    if (rest == 0) {
                        pieces.forEach(ByteBuf::release);
                        pieces.clear();
                        rest = FRAME;
                        complete.incrementAndGet();
                    }
                }
            } finally {
                in.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            wakeups.incrementAndGet();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            pieces.forEach(ByteBuf::release);
            pieces.clear();
        }
    }
}
