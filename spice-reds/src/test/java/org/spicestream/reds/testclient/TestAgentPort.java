package org.spicestream.reds.testclient;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.spicestream.reds.agent.GuestAgentPort;

/**
 * A guest agent port for tests of the server core: records every chunk the server writes and the pause / error
 * calls. Writes complete at once unless {@link #holdWrites} is set (an agent that stops reading); held writes
 * complete on {@link #releaseWrites()}.
 */
public final class TestAgentPort implements GuestAgentPort {
    /** A chunk the server wrote to the agent. */
    public record Chunk(int port, byte[] payload) {}

    private final String name;
    public final BlockingQueue<Chunk> chunks = new LinkedBlockingQueue<>();
    public final BlockingQueue<Boolean> pauses = new LinkedBlockingQueue<>();
    public final BlockingQueue<String> errors = new LinkedBlockingQueue<>();
    private final List<Runnable> held = new ArrayList<>();
    private volatile boolean holdWrites;

    public TestAgentPort(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void writeChunk(int vdiPort, ByteBuf payload, Runnable done) {
        chunks.add(new Chunk(vdiPort, ByteBufUtil.getBytes(payload)));
        payload.release();
        synchronized (held) {
            if (holdWrites) {
                held.add(done);
                return;
            }
        }
        done.run();
    }

    @Override
    public void setReadingPaused(boolean paused) {
        pauses.add(paused);
    }

    @Override
    public void protocolError(String why) {
        errors.add(why);
    }

    /** From now on writes stay "in the port" until {@link #releaseWrites()}. */
    public void holdWrites() {
        synchronized (held) {
            holdWrites = true;
        }
    }

    /** Completes the held writes and stops holding. */
    public void releaseWrites() {
        List<Runnable> run;
        synchronized (held) {
            holdWrites = false;
            run = new ArrayList<>(held);
            held.clear();
        }
        run.forEach(Runnable::run);
    }

    /** The next chunk written, waiting up to {@code timeout}; AssertionError if none. */
    public Chunk next(Duration timeout) {
        try {
            Chunk c = chunks.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (c == null) {
                throw new AssertionError("the server wrote no chunk to " + name + " within " + timeout);
            }
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
