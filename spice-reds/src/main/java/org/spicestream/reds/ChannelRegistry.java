package org.spicestream.reds;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The channels clients can link to; ids are allocated per type, lowest free first (B4). */
public final class ChannelRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelRegistry.class);

    private final SpiceServer server;
    /** Most recently registered first (the order CHANNELS_LIST uses, B53). */
    private final LinkedList<RedChannel> channels = new LinkedList<>();

    ChannelRegistry(SpiceServer server) {
        this.server = server;
    }

    /**
     * Registers {@code channel} with the lowest id free for its type, sets that id on the channel and
     * announces it to connected clients (B54). Returns the id.
     *
     * @throws IllegalStateException if no id is free or the channel is already registered
     */
    public int register(RedChannel channel) {
        if (channel.type() == SpiceChannelType.MAIN) {
            throw new IllegalArgumentException("the main channel belongs to the server");
        }
        int id;
        synchronized (this) {
            if (channel.isRegistered() || channels.contains(channel)) {
                throw new IllegalStateException(channel + " is already registered");
            }
            id = freeId(channel.type());
            if (id < 0) {
                throw new IllegalStateException("no free id for channel type " + SpiceChannelType.name(channel.type()));
            }
            channel.attach(this, id);
            channels.addFirst(channel);
        }
        LOG.info("channel {} registered", channel.name());
        server.mainChannel().announce(channel);
        return id;
    }

    /** Removes {@code channel} and disconnects its clients; its id becomes free. */
    public void unregister(RedChannel channel) {
        synchronized (this) {
            if (!channels.remove(channel)) {
                return;
            }
            channel.detach();
        }
        LOG.info("channel {} unregistered", channel.name());
        for (RedChannelClient c : channel.clients()) {
            c.disconnect("channel " + channel.name() + " unregistered");
        }
    }

    /** Registered channels, most recently registered first (the main channel is not listed). */
    public synchronized List<RedChannel> list() {
        return new ArrayList<>(channels);
    }

    /** The registered channel (type, id), or null. */
    public synchronized RedChannel find(int type, int id) {
        for (RedChannel c : channels) {
            if (c.type() == type && c.id() == id) {
                return c;
            }
        }
        return null;
    }

    synchronized void unregisterAll() {
        for (Iterator<RedChannel> it = channels.iterator(); it.hasNext(); ) {
            it.next().detach();
            it.remove();
        }
    }

    private int freeId(int type) {
        boolean[] used = new boolean[RedChannel.MAX_CHANNEL_ID + 1];
        for (RedChannel c : channels) {
            if (c.type() == type) {
                used[c.id()] = true;
            }
        }
        for (int i = 0; i < used.length; i++) {
            if (!used[i]) {
                return i;
            }
        }
        return -1;
    }
}
