package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;

/**
 * Arbitrary guest agent bytes through the agent device and the server's agent relay, with a client that started
 * the agent: every failure is an agent protocol error (the error state), never an internal error, and nothing leaks
 * (leak detector at PARANOID).
 */
class AgentBytesFuzzTest {

    /** Bytes handed to the device per read, like a transport's reads. */
    static final int READ_SIZE = 4096;
    /** How long the relay may take to report what it found in one input. */
    static final Duration SETTLE = Duration.ofSeconds(5);

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
        // the relay finds content errors (e.g. an oversized ANNOUNCE_CAPABILITIES) on its own executor and reports
        // them to the device later: both counts move together, but not necessarily before this line
        await().atMost(SETTLE).until(() -> agent.errors() == agent.protocolErrors());
        assertThat(agent.errors()).as("every device error is an agent protocol error").isEqualTo(agent.protocolErrors());
        assertThat(rig.server.internalErrors()).isZero();
    }
}
