package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.agent.VdAgent;

/**
 * The main channel (type 1, id 0): MAIN_INIT, channel lists, mouse modes (spice-wire §8, B52–B56); the guest agent's
 * messages go to the {@link AgentRouter}.
 */
final class MainChannel extends RedChannel {
    private static final Logger LOG = LoggerFactory.getLogger(MainChannel.class);

    /** [ref] body limit on main: 4096 + 11 × 2048 (spice-wire §4.3). */
    static final int MAX_MAIN_MESSAGE_SIZE = 4096 + 11 * 2048;
    /** MAIN_INIT.agent_tokens ([ref] 10): the client → agent window, kept by the {@link AgentRouter}. */
    static final int AGENT_TOKENS = AgentRouter.CLIENT_TOKENS;
    /** MAIN_INIT.display_channels_hint: number of QXL devices, none here (B52). */
    static final int DISPLAY_CHANNELS_HINT = 0;
    /** MAIN_INIT.ram_hint: QXL RAM, none here (B52). */
    static final int RAM_HINT = 0;
    /** Channel types listed when more than one session is connected (B53). */
    private static final Set<Integer> MULTI_CLIENT_TYPES = Set.of(
            SpiceChannelType.MAIN, SpiceChannelType.DISPLAY, SpiceChannelType.CURSOR, SpiceChannelType.INPUTS);

    /** Per-connection state, touched on that connection's event loop only. */
    private static final class State {
        boolean attachReplied;
        /** Channel objects this client was told about: each registration is announced once (B54, §8.4). */
        final Set<RedChannel> announced = new HashSet<>();
    }

    private final SpiceServer server;
    private final Map<RedChannelClient, State> states = new ConcurrentHashMap<>();
    private volatile int mouseMode = SpiceMessages.MOUSE_MODE_SERVER;

    MainChannel(SpiceServer server) {
        super(SpiceChannelType.MAIN);
        this.server = server;
    }

    int supportedMouseModes() {
        return SpiceMessages.MOUSE_MODE_SERVER
                | (server.config().input().clientMouseModeAllowed() ? SpiceMessages.MOUSE_MODE_CLIENT : 0);
    }

    int mouseMode() {
        return mouseMode;
    }

    @Override
    protected int maxClientMessageSize(int msgType) {
        return switch (msgType) {
            case SpiceMessages.MSGC_MAIN_ATTACH_CHANNELS, SpiceMessages.MSGC_MAIN_MOUSE_MODE_REQUEST,
                    SpiceMessages.MSGC_MAIN_AGENT_START, SpiceMessages.MSGC_MAIN_AGENT_TOKEN -> MAX_MAIN_MESSAGE_SIZE;
            case SpiceMessages.MSGC_MAIN_AGENT_DATA -> VdAgent.MAX_DATA_SIZE;
            default -> -1;
        };
    }

    @Override
    protected void onConnect(RedChannelClient c) {
        states.put(c, new State());
        // R9: the client's clock starts the session's latency behind the frames' stamps, not the reference's 400 ms.
        SessionClock clock = c.session().clock();
        clock.attachMain(c);
        boolean agent = server.agent().isAttached();
        c.send(init(c.alloc(), c.session().id(), supportedMouseModes(), mouseMode, agent, clock.clientTime()));
        server.agent().clientConnected(c, agent);
    }

    @Override
    protected void onDisconnect(RedChannelClient c) {
        states.remove(c);
        server.agent().clientDisconnected(c);
    }

    @Override
    protected void onMessage(RedChannelClient c, int msgType, ByteBuf body) {
        switch (msgType) {
            case SpiceMessages.MSGC_MAIN_ATTACH_CHANNELS -> attachChannels(c);
            case SpiceMessages.MSGC_MAIN_MOUSE_MODE_REQUEST -> {
                if (body.readableBytes() < 2) {
                    throw new SpiceProtocolException("MOUSE_MODE_REQUEST too short");
                }
                mouseModeRequest(c, body.readUnsignedShortLE());
            }
            case SpiceMessages.MSGC_MAIN_AGENT_START, SpiceMessages.MSGC_MAIN_AGENT_DATA,
                    SpiceMessages.MSGC_MAIN_AGENT_TOKEN -> server.agent().clientMessage(c, msgType, body);
            default -> LOG.debug("{}: ignoring main message {}", c.logContext(), msgType);
        }
    }

    private void attachChannels(RedChannelClient c) {
        State st = states.get(c);
        if (st == null) {
            return;
        }
        boolean multi = server.sessionCount() > 1;
        List<RedChannel> list = server.channels().list().stream()
                .filter(ch -> !multi || MULTI_CLIENT_TYPES.contains(ch.type()))
                .toList();
        ByteBuf b = c.alloc().buffer(4 + 2 * list.size());
        b.writeIntLE(list.size());
        for (RedChannel ch : list) {
            b.writeByte(ch.type()).writeByte(ch.id());
            st.announced.add(ch);
        }
        st.attachReplied = true;
        LOG.debug("{}: CHANNELS_LIST {}", c.logContext(), list);
        c.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_CHANNELS_LIST, b));
    }

    /** B54: a channel registered while clients are connected, announced once to each that had its list. */
    void announce(RedChannel ch) {
        for (RedChannelClient c : clients()) {
            c.eventLoop().execute(() -> {
                State st = states.get(c);
                if (st == null || !st.attachReplied || !ch.isRegistered()) {
                    return;
                }
                if (server.sessionCount() > 1 && !MULTI_CLIENT_TYPES.contains(ch.type())) {
                    return;
                }
                if (st.announced.add(ch)) {
                    LOG.debug("{}: announcing new channel {}", c.logContext(), ch);
                    ByteBuf b = c.alloc().buffer(6).writeIntLE(1).writeByte(ch.type()).writeByte(ch.id());
                    c.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_CHANNELS_LIST, b));
                }
            });
        }
    }

    private void mouseModeRequest(RedChannelClient c, int mode) {
        if (mode == SpiceMessages.MOUSE_MODE_CLIENT && (supportedMouseModes() & mode) == 0) {
            LOG.debug("{}: CLIENT mouse mode requested but not allowed", c.logContext());
            return;
        }
        if (mode != SpiceMessages.MOUSE_MODE_CLIENT && mode != SpiceMessages.MOUSE_MODE_SERVER) {
            LOG.debug("{}: unknown mouse mode {} requested", c.logContext(), mode);
            return;
        }
        mouseMode = mode;
        LOG.info("mouse mode now {}", mode == SpiceMessages.MOUSE_MODE_CLIENT ? "CLIENT" : "SERVER");
        for (RedChannelClient other : clients()) {
            other.send(mouseModeMessage(other.alloc(), supportedMouseModes(), mode));
        }
    }

    static OutgoingMessage init(ByteBufAllocator alloc, int sessionId, int supportedModes, int currentMode, int mmTime) {
        return init(alloc, sessionId, supportedModes, currentMode, false, mmTime);
    }

    static OutgoingMessage init(ByteBufAllocator alloc, int sessionId, int supportedModes, int currentMode,
            boolean agentConnected, int mmTime) {
        ByteBuf b = alloc.buffer(32);
        b.writeIntLE(sessionId)
                .writeIntLE(DISPLAY_CHANNELS_HINT)
                .writeIntLE(supportedModes)
                .writeIntLE(currentMode)
                .writeIntLE(agentConnected ? 1 : 0) // §8.7
                .writeIntLE(AGENT_TOKENS)
                .writeIntLE(mmTime)
                .writeIntLE(RAM_HINT);
        return new OutgoingMessage(SpiceMessages.MSG_MAIN_INIT, b);
    }

    static OutgoingMessage mouseModeMessage(ByteBufAllocator alloc, int supported, int current) {
        return new OutgoingMessage(SpiceMessages.MSG_MAIN_MOUSE_MODE, alloc.buffer(4).writeShortLE(supported).writeShortLE(current));
    }
}
