package org.spicestream.testsupport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects every leak Netty's {@link ResourceLeakDetector} reports, so that tests can fail on it.
 *
 * <p>Netty only logs leaks. We install a detector factory that records them; {@link
 * FailOnNettyLeakExtension} then fails the test class during which a leak surfaced. The factory has
 * to be in place before Netty's buffer classes initialise, which {@link
 * NettyLeakDetectionSessionListener} guarantees by installing it when the JUnit launcher session
 * opens.
 */
public final class NettyLeakDetection {

    private static final List<String> LEAKS = new ArrayList<>();
    private static boolean installed;

    private NettyLeakDetection() {}

    /** Installs the recording factory and raises the level to PARANOID unless configured otherwise. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    }

    /** True when leaks are being recorded (the factory was installed before Netty needed it). */
    public static synchronized boolean isInstalled() {
        return installed;
    }

    /**
     * Forces garbage collection and lets the detectors poll their reference queues, then returns and
     * clears the leaks reported so far.
     */
    public static List<String> collectLeaks() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            System.runFinalization();
            // Every tracked allocation polls the detector's reference queue and reports what it finds.
            for (int i = 0; i < 64; i++) {
                release(PooledByteBufAllocator.DEFAULT.directBuffer(16));
                release(PooledByteBufAllocator.DEFAULT.heapBuffer(16));
                release(ByteBufAllocator.DEFAULT.buffer(16));
                release(Unpooled.directBuffer(16));
            }
        }
        synchronized (NettyLeakDetection.class) {
            List<String> copy = new ArrayList<>(LEAKS);
            LEAKS.clear();
            return copy;
        }
    }

    private static void release(ByteBuf buf) {
        buf.release();
    }

    private static synchronized void record(String leak) {
        LEAKS.add(leak);
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                Class<T> resource, int samplingInterval, long maxActive) {
            return new RecordingDetector<>(resource, samplingInterval);
        }

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            return new RecordingDetector<>(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            record("LEAK: " + resourceType + ".release() was not called before it was garbage-collected."
                    + records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            record("LEAK: " + resourceType + ".release() was not called before it was garbage-collected.");
        }
    }
}
