package org.spicestream.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.spicestream.reds.OutgoingMessage;
import org.spicestream.reds.internal.CommonMessages;
import org.spicestream.reds.internal.Wire;
import org.spicestream.streamchannel.internal.DisplayMessages;

/**
 * Fan-out of one guest frame to N clients as StreamChannel.sendFrame and RedChannelClient.writeNow do it: per
 * client a 36-byte STREAM_DATA_SIZED head, an {@link OutgoingMessage} with {@code frame.retainedDuplicate()}, then
 * mini header + head + payload written to the client's channel and flushed once. The channels end in a sink that
 * releases what it gets (no socket). The frame is a composite of 64 KiB slices, as the guest parser hands it on.
 * Score: frames per second (one op = one frame to all N clients); with {@code -prof gc}, gc.alloc.rate.norm is the
 * heap allocation per frame, which must not grow with the frame size (no frame byte copied).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", NettyThreadExecutor.EXECUTOR,
        NettyThreadExecutor.EXECUTOR_CLASS})
public class FanOutBenchmark {

    /** Size of one guest read, so of one component of the frame. */
    static final int READ_SIZE = 64 * 1024;
    static final int WIDTH = 1920;
    static final int HEIGHT = 1080;

    @Param({"1", "16", "64"})
    int clients;

    @Param({"262144"})
    int frameSize;

    private ByteBuf wire;
    private EmbeddedChannel[] channels;
    private int mmTime;

    /** The end of a client's pipeline: takes the buffers as a socket would, and releases them. */
    static final class Sink extends ChannelOutboundHandlerAdapter {
        long bytes;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf b) {
                bytes += b.readableBytes();
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            // nothing buffered
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        wire = ByteBufAllocator.DEFAULT.directBuffer(frameSize);
        wire.writerIndex(frameSize);
        channels = new EmbeddedChannel[clients];
        for (int i = 0; i < clients; i++) {
            channels[i] = new EmbeddedChannel(new Sink());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        wire.release();
    }

    /** The frame as the parser builds it: retained slices of the reads, in one composite. */
    private ByteBuf frame(ByteBufAllocator alloc) {
        CompositeByteBuf c = alloc.compositeBuffer(Integer.MAX_VALUE);
        for (int off = 0; off < frameSize; off += READ_SIZE) {
            c.addComponent(true, wire.retainedSlice(off, Math.min(READ_SIZE, frameSize - off)));
        }
        return c;
    }

    @Benchmark
    public int fanOut() {
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        ByteBuf frame = frame(alloc);
        int size = frame.readableBytes();
        int t = ++mmTime;
        int written = 0;
        for (EmbeddedChannel ch : channels) {
            ByteBuf head = DisplayMessages.streamDataSizedHead(alloc, 0, t, WIDTH, HEIGHT, size);
            OutgoingMessage m = new OutgoingMessage(DisplayMessages.MSG_STREAM_DATA_SIZED, head, frame.retainedDuplicate());
            ByteBuf header = alloc.buffer(Wire.MINI_HEADER_SIZE);
            CommonMessages.writeMiniHeader(header, m.type(), m.bodySize());
            ch.write(header, ch.voidPromise());
            ch.write(m.head(), ch.voidPromise());
            ch.write(m.payload(), ch.voidPromise());
            ch.flush();
            written++;
        }
        frame.release();
        return written;
    }
}
