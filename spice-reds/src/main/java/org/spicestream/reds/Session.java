package org.spicestream.reds;

import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A client session: its main connection and the connections linked with its id. */
final class Session implements ClientSession {
    private final int id;
    private final SocketAddress remoteAddress;
    private final SessionClock clock;
    private final List<RedChannelClient> clients = new CopyOnWriteArrayList<>();
    private volatile RedChannelClient main;
    private volatile boolean active = true;

    Session(int id, SocketAddress remoteAddress, SessionClock clock) {
        this.id = id;
        this.remoteAddress = remoteAddress;
        this.clock = clock;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public SocketAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public SessionClock clock() {
        return clock;
    }

    @Override
    public boolean isActive() {
        return active;
    }

    void deactivate() {
        active = false;
    }

    RedChannelClient main() {
        return main;
    }

    void add(RedChannelClient c) {
        if (c.channel().type() == SpiceChannelType.MAIN) {
            main = c;
        }
        clients.add(c);
    }

    void remove(RedChannelClient c) {
        clients.remove(c);
    }

    List<RedChannelClient> clients() {
        return List.copyOf(clients);
    }

    @Override
    public String toString() {
        return "session " + Integer.toHexString(id) + " from " + remoteAddress;
    }
}
