package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A SPICE channel (type, id) that clients link to. Subclasses implement the channel-specific messages;
 * the core handles the link stage, framing, the send queue, the ACK window and the common messages.
 *
 * <p>Hooks run on the event loop of the client connection concerned ({@link RedChannelClient#eventLoop()});
 * different clients of one channel may be on different loops, so a channel with shared state hops to
 * its own executor.
 */
public abstract class RedChannel {

    /** Highest channel id (ids are u8 on the wire). */
    public static final int MAX_CHANNEL_ID = 255;

    private final int type;
    private volatile int id = -1;
    private volatile ChannelRegistry registry;
    private volatile EventLoop clientEventLoop;
    private final List<RedChannelClient> clients = new CopyOnWriteArrayList<>();

    protected RedChannel(int channelType) {
        if (channelType <= 0 || channelType > 0xFF) {
            throw new IllegalArgumentException("channel type out of range: " + channelType);
        }
        this.type = channelType;
    }

    /** Channel type ({@link SpiceChannelType}). */
    public final int type() {
        return type;
    }

    /** Channel id, valid after registration (-1 before). */
    public final int id() {
        return id;
    }

    /** True while registered with a running server. */
    public final boolean isRegistered() {
        return registry != null;
    }

    /** "type:id", e.g. "display:0". */
    public String name() {
        return SpiceChannelType.name(type) + ":" + id;
    }

    /**
     * Serves the clients that link from now on on {@code loop} (null: on the loop that accepted their connection).
     * A channel whose state lives on one event loop — a device's — names it, so that what it sends is written on the
     * thread that produced it, without a hand-off per message. The connection moves there at the end of its link
     * stage, when the loop is of the same kind as the connection's (epoll, NIO); otherwise it stays.
     */
    public final void setClientEventLoop(EventLoop loop) {
        this.clientEventLoop = loop;
    }

    /** The loop set by {@link #setClientEventLoop}, or null. */
    public final EventLoop clientEventLoop() {
        return clientEventLoop;
    }

    /** Snapshot of the connected clients. */
    public final List<RedChannelClient> clients() {
        return List.copyOf(clients);
    }

    /**
     * Common capability numbers advertised in the link reply in addition to the core's
     * AUTH_SELECTION, AUTH_SPICE and MINI_HEADER. Capability <em>numbers</em>, not words.
     */
    protected int[] commonCaps() {
        return new int[0];
    }

    /** Channel capability <em>numbers</em> advertised in the link reply (e.g. display: {1, 4, 12}). */
    protected int[] channelCaps() {
        return new int[0];
    }

    /** Whether the core sends SET_ACK first and enforces the ACK window (display and cursor channels). */
    protected boolean usesAckWindow() {
        return false;
    }

    /**
     * The window W this channel's SET_ACK asks for, given the configured one: the client acknowledges every W
     * messages. The bound on unacknowledged messages stays 2 × the configured window whatever this returns.
     */
    protected int ackWindow(int configured) {
        return configured;
    }

    /**
     * Largest body the channel accepts for client message {@code msgType} (≥ 101); -1 for an unknown
     * message, which disconnects the client. Checked from the header before the body is buffered.
     */
    protected int maxClientMessageSize(int msgType) {
        return -1;
    }

    /** A client finished linking (after SET_ACK was queued if {@link #usesAckWindow()}). */
    protected void onConnect(RedChannelClient client) {}

    /** A client connection closed; its queue has been released. */
    protected void onDisconnect(RedChannelClient client) {}

    /**
     * A channel-specific client message (type ≥ 101). {@code body} is borrowed: valid during the call
     * only. Throw {@link SpiceProtocolException} for a malformed body: the client is disconnected.
     */
    protected void onMessage(RedChannelClient client, int msgType, ByteBuf body) {}

    // --- core only ---

    final void attach(ChannelRegistry registry, int id) {
        this.id = id;
        this.registry = registry;
    }

    final void detach() {
        this.registry = null;
    }

    final ChannelRegistry registry() {
        return registry;
    }

    final void addClient(RedChannelClient c) {
        clients.add(c);
    }

    final boolean removeClient(RedChannelClient c) {
        return clients.remove(c);
    }

    final int clientCount() {
        return clients.size();
    }

    @Override
    public String toString() {
        return name();
    }
}
