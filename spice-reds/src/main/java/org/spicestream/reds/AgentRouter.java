package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.agent.AgentConfig;
import org.spicestream.reds.agent.AgentMessageFramer;
import org.spicestream.reds.agent.AgentProtocolException;
import org.spicestream.reds.agent.GuestAgentPort;
import org.spicestream.reds.agent.VdAgent;
import org.spicestream.reds.internal.agent.AgentCaps;
import org.spicestream.reds.internal.agent.AgentMessages;
import org.spicestream.reds.internal.agent.Clipboard;
import org.spicestream.reds.internal.agent.ClientTokens;
import org.spicestream.reds.internal.agent.Output;
import org.spicestream.reds.internal.agent.Piece;
import org.spicestream.reds.internal.agent.Source;

/**
 * The main channel's side of the guest agent (vdagent): relays agent messages between the guest agent's port and
 * every main-channel client, with the VDI chunk framing, the token flow control in both directions and the
 * several-viewer policy (spice-reds README, "Guest agent").
 *
 * <p>A device attaches the agent's port with {@link #attach}; the main channel delegates AGENT_START, AGENT_DATA and
 * AGENT_TOKEN here. All routing state lives on one executor; client hooks run on the client's loop and hop to it.
 */
public final class AgentRouter {
    private static final Logger LOG = LoggerFactory.getLogger(AgentRouter.class);

    /** Client → agent window: MAIN_INIT.agent_tokens and AGENT_CONNECTED_TOKENS ([ref] REDS_AGENT_WINDOW_SIZE). */
    public static final int CLIENT_TOKENS = 10;
    /** Freed client tokens are returned in one AGENT_TOKEN once this many add up ([ref] REDS_TOKENS_TO_SEND). */
    public static final int TOKENS_PER_RETURN = 5;
    /** Chunks handed to the agent's port and not yet written out; more wait in the router (per sender). */
    public static final int MAX_GUEST_WRITES_IN_FLIGHT = 16;
    /** Agent data waiting for clients above which reading from the agent pauses. */
    public static final long GUEST_QUEUE_PAUSE_BYTES = 128 * 1024;
    /** Agent data waiting for clients below which reading from the agent resumes. */
    public static final long GUEST_QUEUE_RESUME_BYTES = 32 * 1024;
    /**
     * Agent data queued for one client beyond which that client is disconnected. Reading from the agent pauses long
     * before (at {@link #GUEST_QUEUE_PAUSE_BYTES}), so only a client that keeps sending requests without taking
     * the answers gets here.
     */
    public static final long MAX_CLIENT_QUEUE_BYTES = 1024 * 1024;
    /** A client that has agent data waiting and gives no AGENT_TOKEN for this long is disconnected ([ref] 30 s). */
    public static final Duration TOKEN_WAIT_TIMEOUT = Duration.ofSeconds(30);
    /** Largest send-token count kept per client (AGENT_START / AGENT_TOKEN values add up to at most this). */
    public static final long MAX_SEND_TOKENS = 0xFFFFFFFFL;
    /** Capability requested of the client for AGENT_CONNECTED_TOKENS (main channel cap 2). */
    static final int CAP_CONNECTED_TOKENS = SpiceMessages.MAIN_CAP_AGENT_CONNECTED_TOKENS;

    private final EventExecutor exec;
    private final AgentConfig config;
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private final Map<RedChannelClient, Client> clients = new ConcurrentHashMap<>();
    private volatile Guest guest;
    private volatile int startedCount;

    // confined to exec
    private final List<Client> started = new ArrayList<>();
    private final Clipboard<Client> clipboard;
    private int[] agentCaps;
    private int[] announcedClientCaps;
    private Client displayOwner;
    private final Source server = new Source() {
        @Override
        public void pieceDone(Piece piece) {}

        @Override
        public String describe() {
            return "server";
        }
    };

    private final Map<Integer, DisplayDevice> displayDevices = new java.util.TreeMap<>();

    private final LongAdder clientViolations = new LongAdder();
    private final LongAdder guestViolations = new LongAdder();
    private final LongAdder piecesToGuest = new LongAdder();
    private final LongAdder piecesToClients = new LongAdder();
    private final LongAdder attaches = new LongAdder();
    private final LongAdder slowClientsDropped = new LongAdder();

    AgentRouter(EventExecutor exec, AgentConfig config) {
        this.exec = exec;
        this.config = config;
        this.clipboard = new Clipboard<>(new Clipboard.Link<>() {
            @Override
            public boolean active(Client viewer) {
                return viewer.started && !viewer.gone;
            }

            @Override
            public void toViewer(Client viewer, ByteBuf message) {
                sendToClient(viewer, message);
            }

            @Override
            public void toGuest(ByteBuf message) {
                sendToGuest(VdAgent.PORT_CLIENT, message);
            }

            @Override
            public boolean viewerPrefix() {
                return clientSidePrefix();
            }

            @Override
            public boolean guestPrefix() {
                return guestSidePrefix();
            }
        }, alloc);
    }

    // ------------------------------------------------------------------ device side

    /**
     * The guest agent opened its port: clients get AGENT_CONNECTED(_TOKENS). Events from the port go to the returned
     * session until {@link GuestSession#close()}. Only one agent port per server: a second attach while one is
     * attached is refused with a logged error (its session ignores everything).
     */
    public GuestSession attach(GuestAgentPort port) {
        GuestSession session = new GuestSession(port);
        run(() -> attachNow(session));
        return session;
    }

    /**
     * Which graphics device and monitor a display channel shows, as a stream device's DEVICE_DISPLAY_INFO says (B17):
     * the agent maps monitors with it.
     *
     * @param channelId the display channel's id
     * @param monitorId the monitor within the channel (the guest's stream id)
     * @param deviceDisplayId the monitor's index on the graphics device
     * @param deviceAddress the graphics device, e.g. {@code pci/0000/02.0}
     */
    public record DisplayDevice(int channelId, long monitorId, long deviceDisplayId, String deviceAddress) {}

    /**
     * Sets (or replaces) what display channel {@code d.channelId()} shows; sent to the agent (GRAPHICS_DEVICE_INFO,
     * server port) when it has the capability, now and whenever it (re)announces itself. Any thread.
     */
    public void displayDevice(DisplayDevice d) {
        run(() -> {
            if (!d.equals(displayDevices.put(d.channelId(), d))) {
                sendDisplayDevices();
            }
        });
    }

    /** Whether a guest agent is attached (what MAIN_INIT.agent_connected says). */
    public boolean isAttached() {
        return guest != null;
    }

    /** The agent configuration. */
    public AgentConfig config() {
        return config;
    }

    /** Clients that started the current agent (AGENT_START): the agent's viewers. */
    public int agentClients() {
        return startedCount;
    }

    /** Main-channel clients that broke the agent rules and were disconnected. */
    public long clientViolations() {
        return clientViolations.sum();
    }

    /** Agent protocol errors found by the router (contents; framing errors are the device's). */
    public long guestViolations() {
        return guestViolations.sum();
    }

    /** AGENT_DATA pieces relayed to the agent. */
    public long piecesToGuest() {
        return piecesToGuest.sum();
    }

    /** AGENT_DATA messages sent to clients. */
    public long piecesToClients() {
        return piecesToClients.sum();
    }

    /** Times an agent port was attached. */
    public long attaches() {
        return attaches.sum();
    }

    /** Clients disconnected for not taking agent data (no tokens for {@link #TOKEN_WAIT_TIMEOUT}, or over the bound). */
    public long slowClientsDropped() {
        return slowClientsDropped.sum();
    }

    /** One attachment of a guest agent port; its methods may be called from any thread. */
    public final class GuestSession {
        private final GuestAgentPort port;

        private GuestSession(GuestAgentPort port) {
            this.port = port;
        }

        /**
         * A piece of an agent message from the guest (at most {@link VdAgent#MAX_DATA_SIZE} bytes, framing already
         * checked by the device; ownership passes).
         */
        public void data(ByteBuf piece, AgentMessageFramer.Framing framing, long remainingAfter) {
            if (!run(() -> guestPiece(this, piece, framing, remainingAfter))) {
                piece.release();
            }
        }

        /** The port closed (or went into the error state): clients get AGENT_DISCONNECTED. Idempotent. */
        public void close() {
            run(() -> detachNow(this));
        }
    }

    // ------------------------------------------------------------------ main channel side (client loops)

    /** A main-channel client connected; MAIN_INIT told it {@code announcedAttached}. On the client's loop. */
    void clientConnected(RedChannelClient rcc, boolean announcedAttached) {
        Client c = new Client(rcc);
        clients.put(rcc, c);
        rcc.setDrainListener(() -> c.out.pump(), exec);
        run(() -> register(c, announcedAttached));
    }

    /** The client's main connection closed. On the client's loop. */
    void clientDisconnected(RedChannelClient rcc) {
        Client c = clients.remove(rcc);
        if (c != null) {
            run(() -> clientGone(c));
        }
    }

    /** AGENT_START, AGENT_DATA or AGENT_TOKEN. On the client's loop; {@code body} is borrowed. */
    void clientMessage(RedChannelClient rcc, int type, ByteBuf body) {
        Client c = clients.get(rcc);
        if (c == null) {
            return;
        }
        switch (type) {
            case SpiceMessages.MSGC_MAIN_AGENT_START -> {
                long tokens = u32(body, "AGENT_START");
                boolean current = c.tokens.start(c.connectedTokens);
                run(() -> start(c, tokens, current));
            }
            case SpiceMessages.MSGC_MAIN_AGENT_TOKEN -> {
                long tokens = u32(body, "AGENT_TOKEN");
                run(() -> addSendTokens(c, tokens));
            }
            case SpiceMessages.MSGC_MAIN_AGENT_DATA -> clientData(c, body);
            default -> throw new IllegalArgumentException("not an agent message: " + type);
        }
    }

    private void clientData(Client c, ByteBuf body) {
        if (!c.tokens.take()) {
            clientViolations.increment();
            throw new SpiceProtocolException("AGENT_DATA without a token: the client may send at most "
                    + CLIENT_TOKENS + " AGENT_DATA before the server returns tokens with AGENT_TOKEN");
        }
        AgentMessageFramer.Framing f;
        try {
            f = c.framer.next(body);
        } catch (AgentProtocolException e) {
            clientViolations.increment();
            throw new SpiceProtocolException("agent data: " + e.getMessage());
        }
        long remaining = c.framer.remaining();
        ByteBuf copy = c.rcc.alloc().buffer(body.readableBytes()).writeBytes(body, body.readerIndex(), body.readableBytes());
        if (!run(() -> clientPiece(c, copy, f, remaining))) {
            copy.release();
        }
    }

    private static long u32(ByteBuf body, String what) {
        if (body.readableBytes() < 4) {
            throw new SpiceProtocolException(what + " body too short: " + body.readableBytes() + " < 4");
        }
        return body.getUnsignedIntLE(body.readerIndex());
    }

    // ------------------------------------------------------------------ attach / detach (exec)

    private void attachNow(GuestSession session) {
        if (guest != null) {
            LOG.error("{}: a guest agent port is already attached ({}); one agent per server, ignoring this one",
                    session.port.name(), guest.session.port.name());
            return;
        }
        attaches.increment();
        Guest g = new Guest(session);
        guest = g;
        agentCaps = null;
        announcedClientCaps = null;
        LOG.info("{}: guest agent attached; announcing it to {} client(s)", session.port.name(), clients.size());
        for (Client c : clients.values()) {
            if (c.registered) {
                announceAgent(c);
            }
        }
    }

    private void announceAgent(Client c) {
        if (c.connectedTokens) {
            c.tokens.connectedTokensSent();
            c.rcc.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_AGENT_CONNECTED_TOKENS,
                    c.rcc.alloc().buffer(4).writeIntLE(CLIENT_TOKENS)));
        } else {
            c.rcc.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_AGENT_CONNECTED, c.rcc.alloc().buffer(0)));
        }
    }

    private void detachNow(GuestSession session) {
        Guest g = guest;
        if (g == null || g.session != session) {
            return;
        }
        guest = null;
        g.out.close();
        releaseRoute(g.route);
        g.route = null;
        LOG.info("{}: guest agent detached; telling {} client(s)", session.port.name(), clients.size());
        for (Client c : clients.values()) {
            if (!c.registered) {
                continue;
            }
            c.started = false;
            c.out.reset();
            c.needsAgentCaps = false;
            if (c.route != null) {
                releaseRoute(c.route);
                c.route = Route.DISCARD; // the tail of a message in progress goes nowhere
            }
            c.rcc.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_AGENT_DISCONNECTED,
                    c.rcc.alloc().buffer(4).writeIntLE(SpiceLinkError.OK)));
        }
        started.clear();
        startedCount = 0;
        clipboard.reset();
        agentCaps = null;
        announcedClientCaps = null;
        displayOwner = null;
    }

    // ------------------------------------------------------------------ clients (exec)

    private void register(Client c, boolean announcedAttached) {
        if (c.gone) {
            return;
        }
        c.registered = true;
        boolean attached = guest != null;
        if (attached != announcedAttached) {
            // the agent came or went between MAIN_INIT and now
            if (attached) {
                announceAgent(c);
            } else {
                c.rcc.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_AGENT_DISCONNECTED,
                        c.rcc.alloc().buffer(4).writeIntLE(SpiceLinkError.OK)));
            }
        }
    }

    private void start(Client c, long sendTokens, boolean current) {
        if (c.gone || !c.registered) {
            return;
        }
        c.sendTokens = Math.min(sendTokens, MAX_SEND_TOKENS);
        if (guest == null || !current) {
            LOG.debug("{}: AGENT_START for an agent that is gone; waiting for the next one", c.rcc.logContext());
            return;
        }
        if (c.started) {
            c.out.pump();
            return;
        }
        c.started = true;
        c.needsAgentCaps = true;
        started.add(c);
        startedCount = started.size();
        if (displayOwner == null) {
            displayOwner = c;
        }
        LOG.info("{}: agent started ({} client(s) with the agent){}", c.rcc.logContext(), started.size(),
                displayOwner == c ? "; the guest follows its display size" : "");
        c.out.pump();
    }

    private void addSendTokens(Client c, long n) {
        c.sendTokens = Math.min(MAX_SEND_TOKENS, c.sendTokens + n);
        c.blockedSince = 0;
        c.out.pump();
    }

    private void clientGone(Client c) {
        c.gone = true;
        c.out.close();
        if (c.route != null) {
            releaseRoute(c.route);
            c.route = null;
        }
        releaseMonitors(c);
        Guest g = guest;
        if (g != null) {
            g.out.sourceGone(c); // a message half written to the agent is completed with zeros
        }
        if (!started.remove(c)) {
            return;
        }
        startedCount = started.size();
        clipboard.viewerGone(c);
        if (displayOwner == c) {
            displayOwner = started.isEmpty() ? null : started.get(0);
            if (displayOwner != null) {
                LOG.info("{}: now the guest follows the display size of {}", c.rcc.logContext(),
                        displayOwner.rcc.logContext());
                if (displayOwner.monitorsConfig != null) {
                    sendToGuest(VdAgent.PORT_CLIENT, displayOwner.monitorsConfig.retainedDuplicate());
                }
            }
        }
        if (g == null) {
            return;
        }
        if (started.isEmpty()) {
            if (announcedClientCaps != null) {
                LOG.info("{}: last agent client gone; telling the agent", g.session.port.name());
                sendToGuest(VdAgent.PORT_SERVER, AgentMessages.empty(alloc, VdAgent.CLIENT_DISCONNECTED));
                announcedClientCaps = null;
            }
            // what the guest copied stays its own: the next viewer is offered it
        } else {
            updateClientCaps(false);
        }
    }

    private void releaseMonitors(Client c) {
        if (c.monitorsConfig != null) {
            c.monitorsConfig.release();
            c.monitorsConfig = null;
        }
    }

    // ------------------------------------------------------------------ client → agent (exec)

    private void clientPiece(Client c, ByteBuf data, AgentMessageFramer.Framing f, long remainingAfter) {
        if (c.gone) {
            data.release();
            return;
        }
        if (f.first()) {
            try {
                c.route = routeFromClient(c, f, data);
            } catch (AgentProtocolException e) {
                data.release();
                clientViolation(c, e.getMessage());
                return;
            }
        }
        Route r = c.route == null ? Route.DISCARD : c.route;
        if (f.last()) {
            c.route = null;
        }
        // Tokens come back for what the client sends once it started the current agent (also the tail of a message
        // it had begun before: spice-gtk finishes it, and must get its window back), not for what it sent before
        // its AGENT_START, which counted against the window AGENT_CONNECTED_TOKENS replaced.
        Piece p = new Piece(c.started ? c : c.unpaid, VdAgent.PORT_CLIENT, data, f.first(), remainingAfter);
        try {
            r.take(p, f.last());
        } catch (AgentProtocolException e) {
            clientViolation(c, e.getMessage());
        }
    }

    private void clientViolation(Client c, String why) {
        clientViolations.increment();
        LOG.warn("{}: agent protocol violation: {}", c.rcc.logContext(), why);
        c.rcc.disconnect("agent protocol violation: " + why);
    }

    private Route routeFromClient(Client c, AgentMessageFramer.Framing f, ByteBuf first) {
        Guest g = guest;
        if (g == null || !c.started) {
            return Route.DISCARD; // no agent, or a message begun before this agent's AGENT_START
        }
        int type = f.type();
        switch (type) {
            case VdAgent.ANNOUNCE_CAPABILITIES:
                return buffer(f, AgentMessages.MAX_ANNOUNCE_SIZE, "client", m -> clientAnnounce(c, m));
            case VdAgent.MONITORS_CONFIG:
                return buffer(f, VdAgent.MAX_MONITORS_CONFIG_SIZE, "client", m -> clientMonitorsConfig(c, m));
            case VdAgent.DISPLAY_CONFIG:
                return c == displayOwner ? toGuest(g) : Route.DISCARD;
            case VdAgent.CLIPBOARD_GRAB, VdAgent.CLIPBOARD_REQUEST, VdAgent.CLIPBOARD, VdAgent.CLIPBOARD_RELEASE:
                return config.copyPaste() ? clipboardFromClient(c, g, type, first) : Route.DISCARD;
            case VdAgent.FILE_XFER_START, VdAgent.FILE_XFER_STATUS, VdAgent.FILE_XFER_DATA:
                return Route.DISCARD; // not relayed: clients are told FILE_XFER_DISABLED
            case VdAgent.MOUSE_STATE, VdAgent.REPLY, VdAgent.CLIENT_DISCONNECTED, VdAgent.GRAPHICS_DEVICE_INFO:
                LOG.debug("{}: dropping {} (not a client's message)", c.rcc.logContext(), VdAgent.typeName(type));
                return Route.DISCARD;
            default:
                return toGuest(g); // MAX_CLIPBOARD, AUDIO_VOLUME_SYNC and types newer than this server
        }
    }

    private Route toGuest(Guest g) {
        return new Route(List.of(g.out));
    }

    private Route buffer(AgentMessageFramer.Framing f, int maxBody, String peer, Consumer<ByteBuf> whole) {
        if (f.messageSize() > maxBody) {
            throw new AgentProtocolException(peer + " sent a " + VdAgent.typeName(f.type()) + " of " + f.messageSize()
                    + " bytes; the limit is " + maxBody);
        }
        return new Route(alloc.buffer(VdAgent.MESSAGE_HEADER_SIZE + (int) f.messageSize()), whole);
    }

    private void clientAnnounce(Client c, ByteBuf message) {
        try {
            c.caps = AgentMessages.announceCaps(message, "client");
            boolean request = AgentMessages.announceRequest(message);
            boolean wasAnnounced = announcedClientCaps != null;
            updateClientCaps(true);
            if (request && wasAnnounced && c.needsAgentCaps && agentCaps != null) {
                sendAgentCaps(c); // the agent answered an earlier viewer; this one gets its capabilities from us
            }
        } finally {
            message.release();
        }
    }

    /**
     * Tells the agent the capabilities of "the client": the union of the started clients' (several viewers are one
     * client to the agent). The first announcement after the agent attached or after the last client left asks the
     * agent for its capabilities (the agent then starts a new client session); later ones only update them.
     */
    private void updateClientCaps(boolean mayStart) {
        if (guest == null) {
            return;
        }
        int[] union = new int[0];
        boolean any = false;
        for (Client s : started) {
            if (s.caps != null) {
                union = AgentCaps.union(union, s.caps);
                any = true;
            }
        }
        if (!any) {
            return;
        }
        union = AgentCaps.towardsAgent(union, config.copyPaste());
        if (announcedClientCaps == null) {
            if (!mayStart) {
                return;
            }
            announcedClientCaps = union;
            sendToGuest(VdAgent.PORT_CLIENT, AgentMessages.announce(alloc, true, union));
        } else if (!AgentCaps.same(union, announcedClientCaps)) {
            announcedClientCaps = union;
            sendToGuest(VdAgent.PORT_CLIENT, AgentMessages.announce(alloc, false, union));
        }
    }

    private void clientMonitorsConfig(Client c, ByteBuf message) {
        try {
            AgentMessages.checkMonitorsConfig(message, "client");
        } catch (AgentProtocolException e) {
            message.release();
            throw e;
        }
        releaseMonitors(c);
        c.monitorsConfig = AgentMessages.withoutPhysicalSize(alloc, message);
        if (c == displayOwner) {
            sendToGuest(VdAgent.PORT_CLIENT, c.monitorsConfig.retainedDuplicate());
        } else {
            LOG.debug("{}: MONITORS_CONFIG kept (the guest follows {})", c.rcc.logContext(),
                    displayOwner == null ? "nobody" : displayOwner.rcc.logContext());
        }
    }

    /**
     * Whether clipboard messages on the client side carry the selection prefix: spice-gtk writes and reads it when the
     * agent announced CLIPBOARD_SELECTION.
     */
    private boolean clientSidePrefix() {
        return AgentCaps.has(agentCaps, VdAgent.CAP_CLIPBOARD_SELECTION);
    }

    /**
     * Whether clipboard messages on the agent side carry the selection prefix: spice-vdagent writes and reads it when
     * the client capabilities it was told include CLIPBOARD_SELECTION.
     */
    private boolean guestSidePrefix() {
        return AgentCaps.has(announcedClientCaps, VdAgent.CAP_CLIPBOARD_SELECTION);
    }

    private Route clipboardFromClient(Client c, Guest g, int type, ByteBuf first) {
        int selection = Clipboard.selectionOf(first, clientSidePrefix());
        return clipboard.fromViewer(c, type, selection) ? toGuest(g) : Route.DISCARD;
    }

    // ------------------------------------------------------------------ agent → clients (exec)

    private void guestPiece(GuestSession session, ByteBuf data, AgentMessageFramer.Framing f, long remainingAfter) {
        Guest g = guest;
        if (g == null || g.session != session) {
            data.release();
            return;
        }
        Piece p = new Piece(g, VdAgent.PORT_CLIENT, data, f.first(), remainingAfter);
        if (f.first()) {
            try {
                g.route = routeFromGuest(g, f, data);
            } catch (AgentProtocolException e) {
                p.discard();
                guestViolation(g, e.getMessage());
                return;
            }
        }
        Route r = g.route == null ? Route.DISCARD : g.route;
        if (f.last()) {
            g.route = null;
        }
        g.queued += p.size();
        try {
            r.take(p, f.last());
        } catch (AgentProtocolException e) {
            guestViolation(g, e.getMessage());
        }
        for (Output o : r.outputs) {
            if (o.queuedBytes() > MAX_CLIENT_QUEUE_BYTES) {
                dropSlowClient(o, "more than " + MAX_CLIENT_QUEUE_BYTES + " bytes of agent data queued");
            }
        }
        if (!g.paused && g.queued > GUEST_QUEUE_PAUSE_BYTES) {
            g.paused = true;
            g.session.port.setReadingPaused(true);
        }
    }

    private void guestViolation(Guest g, String why) {
        guestViolations.increment();
        LOG.warn("{}: agent protocol violation: {}", g.session.port.name(), why);
        g.session.port.protocolError(why);
        detachNow(g.session);
    }

    private Route routeFromGuest(Guest g, AgentMessageFramer.Framing f, ByteBuf first) {
        int type = f.type();
        switch (type) {
            case VdAgent.ANNOUNCE_CAPABILITIES:
                return buffer(f, AgentMessages.MAX_ANNOUNCE_SIZE, "guest agent", this::agentAnnounce);
            case VdAgent.CLIPBOARD_GRAB, VdAgent.CLIPBOARD_REQUEST, VdAgent.CLIPBOARD, VdAgent.CLIPBOARD_RELEASE:
                return config.copyPaste() ? clipboardFromGuest(type, f, first) : Route.DISCARD;
            case VdAgent.FILE_XFER_STATUS:
                return Route.DISCARD;
            default:
                return new Route(outputs(started)); // REPLY and anything newer: to every viewer
        }
    }

    private static List<Output> outputs(Iterable<Client> cs) {
        List<Output> out = new ArrayList<>();
        for (Client c : cs) {
            out.add(c.out);
        }
        return out;
    }

    private void agentAnnounce(ByteBuf message) {
        try {
            agentCaps = AgentMessages.announceCaps(message, "guest agent");
            boolean request = AgentMessages.announceRequest(message);
            LOG.info("{}: agent capabilities {}", guest.session.port.name(), AgentCaps.toString(agentCaps));
            for (Client c : started) {
                sendAgentCaps(c);
            }
            if (request && announcedClientCaps != null) {
                sendToGuest(VdAgent.PORT_CLIENT, AgentMessages.announce(alloc, false, announcedClientCaps));
            } else if (request) {
                updateClientCaps(true);
            }
            sendDisplayDevices();
        } finally {
            message.release();
        }
    }

    private void sendDisplayDevices() {
        if (guest == null || displayDevices.isEmpty()
                || !AgentCaps.has(agentCaps, VdAgent.CAP_GRAPHICS_DEVICE_INFO)) {
            return;
        }
        ByteBuf body = alloc.buffer();
        body.writeIntLE(displayDevices.size());
        for (DisplayDevice d : displayDevices.values()) {
            byte[] address = d.deviceAddress().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            body.writeIntLE(d.channelId()).writeIntLE((int) d.monitorId()).writeIntLE((int) d.deviceDisplayId())
                    .writeIntLE(address.length + 1).writeBytes(address).writeByte(0);
        }
        sendToGuest(VdAgent.PORT_SERVER, AgentMessages.message(alloc, VdAgent.GRAPHICS_DEVICE_INFO, body));
        body.release();
    }

    /** The agent's capabilities (request 0: the server answers the agent's requests itself), then cached grabs. */
    private void sendAgentCaps(Client c) {
        sendToClient(c, AgentMessages.announce(alloc, false, AgentCaps.towardsViewers(agentCaps, config.copyPaste())));
        c.needsAgentCaps = false;
        if (config.copyPaste()) {
            clipboard.offerGuestGrabs(c); // what the guest copied before this viewer came
        }
    }

    private Route clipboardFromGuest(int type, AgentMessageFramer.Framing f, ByteBuf first) {
        int selection = Clipboard.selectionOf(first, guestSidePrefix());
        List<Client> offerTo = new ArrayList<>();
        if (type == VdAgent.CLIPBOARD_GRAB) {
            for (Client c : started) {
                if (c.caps == null || AgentCaps.has(c.caps, VdAgent.CAP_CLIPBOARD_BY_DEMAND)) {
                    offerTo.add(c);
                }
            }
        }
        List<Client> to = clipboard.fromGuest(type, selection,
                type == VdAgent.CLIPBOARD_GRAB && f.last() ? first : null, offerTo);
        return to.isEmpty() ? Route.DISCARD : new Route(outputs(to));
    }

    private void dropSlowClient(Output o, String why) {
        for (Client c : started) {
            if (c.out == o && !c.gone) {
                slowClientsDropped.increment();
                LOG.warn("{}: disconnecting: {}", c.rcc.logContext(), why);
                c.rcc.disconnect(why);
            }
        }
    }

    // ------------------------------------------------------------------ sending (exec)

    private void sendToGuest(int vdiPort, ByteBuf whole) {
        Guest g = guest;
        if (g == null) {
            whole.release();
            return;
        }
        for (Piece p : AgentMessages.pieces(server, vdiPort, whole)) {
            p.distribute(List.of(g.out));
        }
    }

    private void sendToClient(Client c, ByteBuf whole) {
        for (Piece p : AgentMessages.pieces(server, VdAgent.PORT_CLIENT, whole)) {
            p.distribute(List.of(c.out));
        }
    }

    private void releaseRoute(Route r) {
        if (r != null && r.assembly != null) {
            ReferenceCountUtil.safeRelease(r.assembly);
        }
    }

    private boolean run(Runnable task) {
        try {
            exec.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            LOG.debug("agent router stopped; dropping a task");
            return false;
        }
    }

    /** Drops everything the router holds (server shutdown). */
    void close() {
        run(() -> {
            Guest g = guest;
            if (g != null) {
                detachNow(g.session);
            }
            for (Client c : clients.values()) {
                c.out.close();
                releaseMonitors(c);
            }
        });
    }

    // ------------------------------------------------------------------ state

    /** Where the pieces of one message go: outputs, or a buffer for a message the server reads whole. */
    private static final class Route {
        static final Route DISCARD = new Route(List.of());

        final List<Output> outputs;
        final ByteBuf assembly;
        final Consumer<ByteBuf> whole;

        Route(List<Output> outputs) {
            this.outputs = outputs;
            this.assembly = null;
            this.whole = null;
        }

        Route(ByteBuf assembly, Consumer<ByteBuf> whole) {
            this.outputs = List.of();
            this.assembly = assembly;
            this.whole = whole;
        }

        void take(Piece p, boolean last) {
            if (assembly == null) {
                p.distribute(outputs);
                return;
            }
            assembly.writeBytes(p.content(), p.content().readerIndex(), p.size());
            p.discard();
            if (last) {
                whole.accept(assembly); // takes ownership
            }
        }
    }

    /** The attached guest agent: its output (with bounded writes in flight) and its back-pressure state. */
    private final class Guest implements Source {
        final GuestSession session;
        final Output out;
        int inFlight;
        long queued;
        boolean paused;
        Route route;

        Guest(GuestSession session) {
            this.session = session;
            this.out = new Output(session.port.name() + " agent", new Output.Sink() {
                @Override
                public boolean ready() {
                    return inFlight < MAX_GUEST_WRITES_IN_FLIGHT;
                }

                @Override
                public void write(int vdiPort, ByteBuf data, Runnable done) {
                    inFlight++;
                    piecesToGuest.increment();
                    session.port.writeChunk(vdiPort, data, () -> run(() -> {
                        inFlight--;
                        done.run();
                        if (guest == Guest.this) {
                            out.pump();
                        }
                    }));
                }
            });
        }

        @Override
        public void pieceDone(Piece piece) {
            queued -= piece.size();
            if (paused && queued < GUEST_QUEUE_RESUME_BYTES) {
                paused = false;
                session.port.setReadingPaused(false);
            }
        }

        @Override
        public String describe() {
            return "guest agent " + session.port.name();
        }
    }

    /** One main-channel client as the agent sees it. */
    private final class Client implements Source {
        final RedChannelClient rcc;
        final boolean connectedTokens;
        final ClientTokens tokens = new ClientTokens(CLIENT_TOKENS, TOKENS_PER_RETURN);
        /**
         * Source of pieces whose tokens are not returned: what the client sent before its AGENT_START for the current
         * agent (the reference does not count it either; AGENT_CONNECTED_TOKENS gave the client a new window).
         */
        final Source unpaid = new Source() {
            @Override
            public void pieceDone(Piece piece) {}

            @Override
            public String describe() {
                return rcc.logContext();
            }
        };
        final AgentMessageFramer framer; // the client's loop only
        final Output out;
        // exec only
        boolean registered;
        boolean started;
        boolean gone;
        boolean needsAgentCaps;
        long sendTokens;
        long blockedSince;
        int[] caps;
        Route route;
        ByteBuf monitorsConfig;

        Client(RedChannelClient rcc) {
            this.rcc = rcc;
            this.connectedTokens = rcc.hasRemoteChannelCap(CAP_CONNECTED_TOKENS);
            this.framer = new AgentMessageFramer("client", config.maxMessageBytes());
            this.out = new Output(rcc.logContext() + " agent", new Output.Sink() {
                @Override
                public boolean ready() {
                    if (!started || gone || rcc.isCongested()) {
                        return false;
                    }
                    if (sendTokens == 0) {
                        waitForTokens();
                        return false;
                    }
                    return true;
                }

                @Override
                public void write(int vdiPort, ByteBuf data, Runnable done) {
                    sendTokens--;
                    piecesToClients.increment();
                    if (!rcc.trySend(new OutgoingMessage(SpiceMessages.MSG_MAIN_AGENT_DATA, data)) && !gone) {
                        LOG.warn("{}: send queue refused agent data: disconnecting", rcc.logContext());
                        rcc.disconnect("send queue overflow (agent data)");
                    }
                    done.run();
                }
            });
        }

        private void waitForTokens() {
            if (blockedSince != 0) {
                return;
            }
            blockedSince = System.nanoTime();
            long started = blockedSince;
            exec.schedule(() -> {
                if (!gone && blockedSince == started && sendTokens == 0 && out.hasQueued()) {
                    slowClientsDropped.increment();
                    LOG.warn("{}: no AGENT_TOKEN for {} s while agent data waits: disconnecting", rcc.logContext(),
                            TOKEN_WAIT_TIMEOUT.toSeconds());
                    rcc.disconnect("no agent tokens for " + TOKEN_WAIT_TIMEOUT.toSeconds() + " s");
                }
            }, TOKEN_WAIT_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public void pieceDone(Piece piece) {
            int r = tokens.free(1);
            if (r > 0) {
                rcc.send(new OutgoingMessage(SpiceMessages.MSG_MAIN_AGENT_TOKEN, rcc.alloc().buffer(4).writeIntLE(r)));
            }
        }

        @Override
        public String describe() {
            return rcc.logContext();
        }
    }
}
