package org.spicestream.device.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.spicestream.reds.agent.AgentMessageFramer;
import org.spicestream.reds.agent.AgentProtocolException;
import org.spicestream.reds.agent.VdAgent;

/**
 * Reads the VDI chunk stream a guest agent writes into its port ({@code u32 port, u32 size, size bytes}, little
 * endian) incrementally and cuts the client-port chunks into pieces of at most {@link VdAgent#MAX_DATA_SIZE} bytes,
 * each checked by an {@link AgentMessageFramer}; server-port chunks are read and dropped, as the reference does. A
 * chunk may be any size (spice-vdagent writes a whole message as one chunk); only one piece is ever buffered. Not
 * thread-safe.
 */
public final class VdiChunkReader {

    /** Receives the pieces; ownership of {@code piece} passes. */
    public interface Sink {
        void piece(ByteBuf piece, AgentMessageFramer.Framing framing, long remainingAfter);
    }

    private final ByteBufAllocator alloc;
    private final AgentMessageFramer framer;
    private final byte[] header = new byte[VdAgent.CHUNK_HEADER_SIZE];
    private int headerFill;
    private int port;
    private long chunkRemaining;
    private ByteBuf piece;
    private int pieceTarget;
    private long chunks;
    private long pieces;

    public VdiChunkReader(ByteBufAllocator alloc, long maxMessageBytes) {
        this.alloc = alloc;
        this.framer = new AgentMessageFramer("guest agent", maxMessageBytes);
    }

    /**
     * Consumes all of {@code in} (borrowed), handing every completed piece to {@code sink}.
     *
     * @throws AgentProtocolException when the agent breaks the framing; the reader must then be reset
     */
    public void read(ByteBuf in, Sink sink) {
        while (in.isReadable()) {
            if (headerFill < VdAgent.CHUNK_HEADER_SIZE) {
                int n = Math.min(in.readableBytes(), VdAgent.CHUNK_HEADER_SIZE - headerFill);
                in.readBytes(header, headerFill, n);
                headerFill += n;
                if (headerFill < VdAgent.CHUNK_HEADER_SIZE) {
                    return;
                }
                port = (header[0] & 0xFF) | (header[1] & 0xFF) << 8 | (header[2] & 0xFF) << 16 | (header[3] & 0xFF) << 24;
                chunkRemaining = ((header[4] & 0xFFL) | (header[5] & 0xFFL) << 8 | (header[6] & 0xFFL) << 16
                        | (header[7] & 0xFFL) << 24);
                chunks++;
                if (port != VdAgent.PORT_CLIENT && port != VdAgent.PORT_SERVER) {
                    throw new AgentProtocolException("guest agent wrote a VDI chunk for port " + Integer.toUnsignedString(port)
                            + "; only " + VdAgent.PORT_CLIENT + " (client) and " + VdAgent.PORT_SERVER + " (server) exist");
                }
                if (chunkRemaining == 0) {
                    headerFill = 0;
                }
                continue;
            }
            if (port == VdAgent.PORT_SERVER) {
                int n = (int) Math.min(in.readableBytes(), chunkRemaining);
                in.skipBytes(n);
                chunkRemaining -= n;
            } else {
                if (piece == null) {
                    pieceTarget = (int) Math.min(VdAgent.MAX_DATA_SIZE, chunkRemaining);
                    piece = alloc.buffer(pieceTarget, pieceTarget);
                }
                int n = Math.min(in.readableBytes(), pieceTarget - piece.readableBytes());
                piece.writeBytes(in, n);
                chunkRemaining -= n;
                if (piece.readableBytes() == pieceTarget) {
                    ByteBuf done = piece;
                    piece = null;
                    AgentMessageFramer.Framing f;
                    try {
                        f = framer.next(done);
                    } catch (AgentProtocolException e) {
                        done.release();
                        throw e;
                    }
                    pieces++;
                    sink.piece(done, f, framer.remaining());
                }
            }
            if (chunkRemaining == 0) {
                headerFill = 0;
            }
        }
    }

    /** Forgets a partial chunk and message (port opened or closed). */
    public void reset() {
        headerFill = 0;
        chunkRemaining = 0;
        framer.reset();
        if (piece != null) {
            piece.release();
            piece = null;
        }
    }

    /** VDI chunks read. */
    public long chunks() {
        return chunks;
    }

    /** Client-port pieces handed on. */
    public long pieces() {
        return pieces;
    }
}
