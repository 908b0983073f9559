package org.spicestream.reds.agent;

import io.netty.buffer.ByteBuf;

/**
 * The guest agent's virtio port as the server core sees it (implemented by the device that owns the port). Methods
 * may be called from any thread; the implementation hops to its own executor.
 */
public interface GuestAgentPort {

    /** The device name, for logs. */
    String name();

    /**
     * Writes one VDI chunk to the agent: {@code payload} (at most {@link VdAgent#MAX_DATA_SIZE} bytes, ownership
     * passes) to chunk port {@code vdiPort}. {@code done} runs once the chunk left the port's queue, written or dropped
     * (the server then returns the sender's token).
     */
    void writeChunk(int vdiPort, ByteBuf payload, Runnable done);

    /** Stops ({@code true}) or resumes reading from the agent while no client can take more of its data. */
    void setReadingPaused(boolean paused);

    /** The agent broke the protocol in a way only the server saw (message contents): drop it like a framing error. */
    void protocolError(String why);
}
