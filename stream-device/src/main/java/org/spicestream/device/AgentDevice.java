package org.spicestream.device;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.atomic.LongAdder;
import org.spicestream.device.internal.VdiChunkReader;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.reds.AgentRouter;
import org.spicestream.reds.agent.AgentMessageFramer;
import org.spicestream.reds.agent.AgentProtocolException;
import org.spicestream.reds.agent.GuestAgentPort;
import org.spicestream.reds.agent.VdAgent;

/**
 * The guest agent's port ({@code com.redhat.spice.0}, spice-vdagent): reads the VDI chunks the agent writes and hands
 * their pieces to the server's {@link AgentRouter}; writes what the router sends. Every opening of the port is one
 * agent session: the router announces the agent to clients on open and withdraws it on close, and nothing of a
 * session (a partial chunk, a partial message, a queued write) survives into the next one. An agent that breaks the
 * framing gets the error state of every char device (B10): its bytes are discarded and the port is dropped.
 */
public final class AgentDevice extends CharDevice {

    /** Pause reason while no client can take more of the agent's data. */
    private static final String CLIENTS_BUSY = "agent clients busy";

    private final AgentRouter router;
    private final VdiChunkReader reader;
    private Session session;

    private final LongAdder protocolErrors = new LongAdder();
    private volatile long sessions;

    /**
     * @param name the device name (logs, metrics)
     * @param transport the agent's port
     * @param router the server's agent router (one agent port per server)
     */
    public AgentDevice(String name, GuestTransport transport, AgentRouter router) {
        super(name, transport);
        this.router = router;
        this.reader = new VdiChunkReader(ByteBufAllocator.DEFAULT, router.config().maxMessageBytes());
    }

    @Override
    protected void onPortOpened() {
        reader.reset();
        sessions++;
        session = new Session(sessions);
        session.routerSession = router.attach(session);
    }

    @Override
    protected void onPortClosed() {
        endSession();
    }

    @Override
    protected void onReset() {
        reader.reset();
        resumeReading(CLIENTS_BUSY); // the router of an ended session no longer resumes it
    }

    @Override
    protected void onData(ByteBuf borrowed) {
        Session s = session;
        if (s == null) {
            return;
        }
        try {
            reader.read(borrowed, s::piece);
        } catch (AgentProtocolException e) {
            protocolErrors.increment();
            endSession();
            enterErrorState(e.getMessage());
        }
    }

    private void endSession() {
        if (session != null) {
            session.routerSession.close();
            session = null;
        }
        reader.reset();
    }

    /** Agent framing errors (this device's) and content errors the router reported. */
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    /** Agent sessions so far (port openings). */
    public long sessions() {
        return sessions;
    }

    /** VDI chunks read from the agent. */
    public long chunksIn() {
        return reader.chunks();
    }

    /** Whether an agent session is open. */
    public boolean hasSession() {
        return session != null;
    }

    /**
     * One opening of the port as the router sees it. Calls of an ended session are dropped, so that nothing the
     * router meant for one agent reaches the next.
     */
    private final class Session implements GuestAgentPort {
        private final long number;
        AgentRouter.GuestSession routerSession;

        Session(long number) {
            this.number = number;
        }

        void piece(ByteBuf piece, AgentMessageFramer.Framing framing, long remainingAfter) {
            routerSession.data(piece, framing, remainingAfter);
        }

        private boolean current() {
            return session == this;
        }

        @Override
        public String name() {
            return AgentDevice.this.name();
        }

        @Override
        public void writeChunk(int vdiPort, ByteBuf payload, Runnable done) {
            if (!executor().inEventLoop()) {
                try {
                    executor().execute(() -> writeChunk(vdiPort, payload, done));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    payload.release();
                    done.run();
                }
                return;
            }
            if (!current()) {
                payload.release();
                done.run();
                return;
            }
            int n = payload.readableBytes();
            ByteBuf chunk = ByteBufAllocator.DEFAULT.buffer(VdAgent.CHUNK_HEADER_SIZE + n);
            chunk.writeIntLE(vdiPort).writeIntLE(n).writeBytes(payload, payload.readerIndex(), n);
            payload.release();
            writeToGuest(chunk, done);
        }

        @Override
        public void setReadingPaused(boolean paused) {
            executor().execute(() -> {
                if (!current()) {
                    return;
                }
                if (paused) {
                    pauseReading(CLIENTS_BUSY);
                } else {
                    resumeReading(CLIENTS_BUSY);
                }
            });
        }

        @Override
        public void protocolError(String why) {
            executor().execute(() -> {
                if (current()) {
                    protocolErrors.increment();
                    endSession();
                    enterErrorState(why);
                }
            });
        }

        @Override
        public String toString() {
            return name() + " session " + number;
        }
    }

    @Override
    public String toString() {
        return "AgentDevice[" + name() + "]";
    }
}
