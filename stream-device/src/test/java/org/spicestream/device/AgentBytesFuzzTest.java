package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Arbitrary guest agent bytes through the agent device and the server's agent relay, with a client that started
 * the agent: every failure is an agent protocol error (the error state), never an internal error, and nothing leaks
 * (leak detector at PARANOID).
 */
class AgentBytesFuzzTest {

    /** Bytes handed to the device per read, like a transport's reads. */
    static final int READ_SIZE = 4096;

    @FuzzTest(maxDuration = "20s")
    void agentBytesThroughTheDevice(byte[] input) {
        FuzzRig rig = FuzzRig.get();
        rig.client(FuzzRig.Target.MAIN);
        AgentDevice agent = rig.agent;
        rig.onAgent(() -> {
            agent.portClosed();
            agent.portOpened();
            for (int offset = 0; offset < input.length; offset += READ_SIZE) {
                int n = Math.min(READ_SIZE, input.length - offset);
                ByteBuf read = ByteBufAllocator.DEFAULT.directBuffer(n).writeBytes(input, offset, n);
                try {
                    agent.dataReceived(read);
                } finally {
                    read.release();
                }
            }
        });
        rig.drainClients();
        assertThat(agent.errors()).as("every device error is an agent protocol error").isEqualTo(agent.protocolErrors());
        assertThat(rig.server.internalErrors()).isZero();
    }
}
