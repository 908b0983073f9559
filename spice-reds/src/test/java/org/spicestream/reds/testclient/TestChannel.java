package org.spicestream.reds.testclient;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import org.spicestream.reds.RedChannel;
import org.spicestream.reds.RedChannelClient;

/** A configurable {@link RedChannel} for tests: records connects, disconnects and messages. */
public class TestChannel extends RedChannel {
    /** A recorded client message. */
    public record Received(RedChannelClient client, int type, byte[] body) {}

    private final int[] caps;
    private final boolean ack;
    private final int maxMessageSize;
    public final BlockingQueue<RedChannelClient> connected = new LinkedBlockingQueue<>();
    public final BlockingQueue<RedChannelClient> disconnected = new LinkedBlockingQueue<>();
    public final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    public final List<RedChannelClient> live = new CopyOnWriteArrayList<>();

    /** Accepts client message types 101…199 up to {@code maxMessageSize} bytes. */
    public TestChannel(int type, boolean usesAckWindow, int maxMessageSize, int... channelCaps) {
        super(type);
        this.caps = channelCaps.clone();
        this.ack = usesAckWindow;
        this.maxMessageSize = maxMessageSize;
    }

    @Override
    protected int[] channelCaps() {
        return caps.clone();
    }

    @Override
    protected boolean usesAckWindow() {
        return ack;
    }

    @Override
    protected int maxClientMessageSize(int msgType) {
        return msgType >= 101 && msgType < 200 ? maxMessageSize : -1;
    }

    @Override
    protected void onConnect(RedChannelClient client) {
        live.add(client);
        connected.add(client);
    }

    @Override
    protected void onDisconnect(RedChannelClient client) {
        live.remove(client);
        disconnected.add(client);
    }

    @Override
    protected void onMessage(RedChannelClient client, int msgType, ByteBuf body) {
        byte[] b = new byte[body.readableBytes()];
        body.readBytes(b);
        received.add(new Received(client, msgType, b));
    }
}
