package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Arbitrary guest bytes through a whole stream device with clients attached: every failure is a protocol error
 * (NOTIFY_ERROR and the error state), never an internal error, and nothing leaks (leak detector at PARANOID).
 */
class GuestBytesFuzzTest {

    /** Bytes handed to the device per read, like a transport's reads. */
    static final int READ_SIZE = 4096;

    @FuzzTest(maxDuration = "20s")
    void guestBytesThroughTheDevice(byte[] input) {
        FuzzRig rig = FuzzRig.get();
        rig.client(FuzzRig.Target.DISPLAY);
        rig.client(FuzzRig.Target.CURSOR);
        StreamDevice device = rig.device;
        rig.onDevice(() -> {
            device.portOpened();
            for (int offset = 0; offset < input.length; offset += READ_SIZE) {
                int n = Math.min(READ_SIZE, input.length - offset);
                ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer(n).writeBytes(input, offset, n);
                try {
                    device.dataReceived(read);
                } finally {
                    read.release();
                }
            }
            device.portClosed();
        });
        rig.drainClients();
        assertThat(device.errors()).as("every device error is a protocol error").isEqualTo(device.protocolErrors());
        assertThat(rig.server.internalErrors()).isZero();
    }
}
