package org.spicestream.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.spicestream.reds.internal.CommonMessages;
import org.spicestream.reds.internal.Wire;
import org.spicestream.streamchannel.internal.DisplayMessages;

/**
 * Encoding the per-client headers of one frame: the 6-byte mini data header plus the 12-byte STREAM_DATA head or
 * the 36-byte STREAM_DATA_SIZED head, into pooled buffers that are released again (as after the socket write).
 * Score: header pairs per second; with {@code -prof gc} the allocation per pair.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", NettyThreadExecutor.EXECUTOR,
        NettyThreadExecutor.EXECUTOR_CLASS})
public class StreamDataHeaderBenchmark {

    static final int FRAME_SIZE = 256 * 1024;
    static final int WIDTH = 1920;
    static final int HEIGHT = 1080;

    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private int mmTime;

    @Benchmark
    public int streamData() {
        ByteBuf head = DisplayMessages.streamDataHead(alloc, 0, ++mmTime, FRAME_SIZE);
        return writeHeaderAndRelease(DisplayMessages.MSG_STREAM_DATA, head);
    }

    @Benchmark
    public int streamDataSized() {
        ByteBuf head = DisplayMessages.streamDataSizedHead(alloc, 0, ++mmTime, WIDTH, HEIGHT, FRAME_SIZE);
        return writeHeaderAndRelease(DisplayMessages.MSG_STREAM_DATA_SIZED, head);
    }

    private int writeHeaderAndRelease(int type, ByteBuf head) {
        ByteBuf header = alloc.buffer(Wire.MINI_HEADER_SIZE);
        CommonMessages.writeMiniHeader(header, type, head.readableBytes() + FRAME_SIZE);
        int n = header.readableBytes() + head.readableBytes();
        header.release();
        head.release();
        return n;
    }
}
