package org.spicestream.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.spicestream.protocol.Data;
import org.spicestream.protocol.GuestStreamParser;
import org.spicestream.protocol.StreamMessages;

/**
 * Guest → host decoding of DATA frames arriving in transport-sized reads (issue 2: 256 KiB frames, 64 KiB
 * reads). Score is frames per second; multiply by the frame size for bytes per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled"})
public class GuestDecodeBenchmark {

    static final int FRAMES = 16;

    @Param({"262144"})
    int frameSize;

    @Param({"65536"})
    int readSize;

    private ByteBuf wire;
    private GuestStreamParser parser;

    @Setup(Level.Trial)
    public void setUp() {
        PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        wire = alloc.directBuffer(FRAMES * (frameSize + 8));
        ByteBuf frame = alloc.directBuffer(frameSize);
        for (int i = 0; i < frameSize; i++) {
            frame.writeByte(i);
        }
        for (int i = 0; i < FRAMES; i++) {
            ByteBuf encoded = StreamMessages.encode(new Data(frame.retainedDuplicate()), alloc);
            wire.writeBytes(encoded);
            encoded.release();
        }
        frame.release();
        parser = new GuestStreamParser();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wire.release();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public void decode(Blackhole hole) {
        int length = wire.writerIndex();
        for (int offset = 0; offset < length; offset += readSize) {
            // Each read is its own buffer, as a transport hands them on (a retained slice, released after parsing).
            ByteBuf read = wire.retainedSlice(offset, Math.min(readSize, length - offset));
            parser.parse(read, message -> {
                Data data = (Data) message;
                hole.consume(data.content().readableBytes());
                data.release();
            });
            read.release();
        }
    }
}
