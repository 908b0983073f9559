package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.reds.internal.Caps;
import org.spicestream.reds.internal.LinkCodec;
import org.spicestream.reds.internal.LinkMess;
import org.spicestream.reds.internal.Rsa;
import org.spicestream.reds.internal.TicketVerifier;
import org.spicestream.reds.internal.Wire;

/**
 * The link stage of one connection (spice-wire §3, B44–B50): header, link message, reply with a fresh
 * RSA key, auth mechanism, ticket, link result; then hands the connection to a {@link RedChannelClient}.
 * Nothing larger than the configured link message size is buffered.
 */
final class LinkHandler extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(LinkHandler.class);

    private enum State { HEADER, BODY, KEYGEN, MECHANISM, TICKET, MOVING, DONE }

    private final SpiceServer server;
    private final boolean tls;
    private final boolean preauthorized;
    private State state = State.HEADER;
    private int bodySize;
    private LinkMess mess;
    private RedChannel target;
    private KeyPair keyPair;
    private ScheduledFuture<?> timeout;
    private boolean linkingReleased;

    LinkHandler(SpiceServer server, boolean tls, boolean preauthorized) {
        this.server = server;
        this.tls = tls;
        this.preauthorized = preauthorized;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        super.handlerAdded(ctx);
        long nanos = server.config().link().timeout().toNanos();
        timeout = ctx.executor().schedule(() -> {
            if (state != State.DONE) {
                LOG.info("{}: link from {}: timed out in state {}", server.config().name(), ctx.channel().remoteAddress(), state);
                state = State.DONE;
                ctx.close();
            }
        }, nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> readHeader(ctx, in);
            case BODY -> readBody(ctx, in);
            case KEYGEN -> {
                if (in.readableBytes() > Wire.AUTH_MECHANISM_SIZE + Wire.TICKET_SIZE) {
                    reject(ctx, in, "sent more than mechanism + ticket before the link reply");
                }
            }
            case MECHANISM -> readMechanism(ctx, in);
            case TICKET -> readTicket(ctx, in);
            case MOVING -> {
                // kept for the client handler; reading is off, so this is at most one read's worth
            }
            case DONE -> in.skipBytes(in.readableBytes());
        }
    }

    private void readHeader(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < Wire.LINK_HEADER_SIZE) {
            return;
        }
        int r = in.readerIndex();
        if (in.getIntLE(r) != Wire.LINK_MAGIC) {
            fail(ctx, in, SpiceLinkError.INVALID_MAGIC, "bad magic");
            return;
        }
        long major = in.getUnsignedIntLE(r + 4);
        if (major == 0) {
            reject(ctx, in, "major version 0");
            return;
        }
        if (major != Wire.VERSION_MAJOR) {
            fail(ctx, in, SpiceLinkError.VERSION_MISMATCH, "major version " + major);
            return;
        }
        long size = in.getUnsignedIntLE(r + 12);
        if (size < Wire.LINK_MESS_SIZE || size > server.config().link().maxMessageSize()) {
            fail(ctx, in, SpiceLinkError.INVALID_DATA, "link message size " + size);
            return;
        }
        in.skipBytes(Wire.LINK_HEADER_SIZE);
        bodySize = (int) size;
        state = State.BODY;
        readBody(ctx, in);
    }

    private void readBody(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < bodySize) {
            return;
        }
        try {
            mess = LinkMess.parse(in, bodySize);
        } catch (LinkMess.Invalid e) {
            fail(ctx, in, e.linkError(), e.getMessage());
            return;
        }
        in.skipBytes(bodySize);
        if (!tls && server.config().listen().secureChannels().contains(mess.channelType())) {
            // §3.8: spice-gtk reconnects this channel to the TLS port; html5 fails
            fail(ctx, in, SpiceLinkError.NEED_SECURED,
                    SpiceChannelType.name(mess.channelType()) + " must use TLS");
            return;
        }
        target = server.linkTarget(mess.channelType(), mess.channelId());
        if (target == null) {
            reject(ctx, in, "no channel " + SpiceChannelType.name(mess.channelType()) + ":" + mess.channelId());
            return;
        }
        state = State.KEYGEN;
        CompletableFuture.supplyAsync(Rsa::generate, server.keyExecutor()).whenComplete((kp, err) -> ctx.executor().execute(() -> {
            if (err != null) {
                LOG.error("{}: link from {}: key generation failed", server.config().name(), ctx.channel().remoteAddress(), err);
                state = State.DONE;
                ctx.close();
                return;
            }
            keyReady(ctx, kp);
        }));
    }

    private void keyReady(ChannelHandlerContext ctx, KeyPair kp) {
        if (state != State.KEYGEN || !ctx.channel().isActive()) {
            return;
        }
        keyPair = kp;
        int[] common = IntStream.concat(
                        IntStream.of(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION, SpiceMessages.COMMON_CAP_AUTH_SPICE,
                                SpiceMessages.COMMON_CAP_MINI_HEADER),
                        IntStream.of(target.commonCaps()))
                .toArray();
        ctx.writeAndFlush(LinkCodec.reply(ctx.alloc(), kp.getPublic().getEncoded(), Caps.words(common),
                Caps.words(target.channelCaps())));
        state = mess.hasCommonCap(SpiceMessages.COMMON_CAP_PROTOCOL_AUTH_SELECTION) ? State.MECHANISM : State.TICKET;
        // bytes that arrived while the key was generated
        try {
            channelRead(ctx, Unpooled.EMPTY_BUFFER);
        } catch (Exception e) {
            ctx.fireExceptionCaught(e);
        }
    }

    private void readMechanism(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < Wire.AUTH_MECHANISM_SIZE) {
            return;
        }
        long mech = in.readUnsignedIntLE();
        if (mech != Wire.AUTH_MECHANISM_SPICE) {
            // [ref] answers with a full link error here; we send the bare result (spice-wire §3.5)
            result(ctx, in, SpiceLinkError.INVALID_DATA, "unsupported auth mechanism " + mech);
            return;
        }
        state = State.TICKET;
        readTicket(ctx, in);
    }

    private void readTicket(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < Wire.TICKET_SIZE) {
            return;
        }
        byte[] ticket = new byte[Wire.TICKET_SIZE];
        in.readBytes(ticket);
        // a connection the front door authenticated (a signed route) needs no password
        TicketVerifier.Result check = preauthorized ? TicketVerifier.Result.OK
                : server.ticketVerifier().check(keyPair.getPrivate(), ticket);
        keyPair = null;
        if (check != TicketVerifier.Result.OK) {
            result(ctx, in, SpiceLinkError.PERMISSION_DENIED, "ticket refused: " + check);
            return;
        }
        EventLoop home = target.clientEventLoop();
        if (home != null && home != ctx.channel().eventLoop() && canMove(ctx.channel(), home)) {
            moveThenLink(ctx, home);
            return;
        }
        link(ctx, in);
    }

    /**
     * Moves the connection onto the event loop its channel serves clients on (a device's), then completes the link
     * there. Reading stops first; bytes the client sent after its ticket stay in this decoder and reach the client
     * handler when this one is removed. While the connection is on no loop, nothing is read or written.
     */
    private void moveThenLink(ChannelHandlerContext ctx, EventLoop home) {
        state = State.MOVING;
        if (timeout != null) {
            timeout.cancel(false); // the rest of the link is local: the move completes or fails at once
        }
        Channel ch = ctx.channel();
        ch.config().setAutoRead(false);
        ctx.deregister().addListener(deregistered -> {
            if (!deregistered.isSuccess()) {
                moveFailed(ch, deregistered.cause());
                return;
            }
            home.register(ch).addListener(registered -> {
                if (!registered.isSuccess()) {
                    moveFailed(ch, registered.cause());
                    return;
                }
                // on home from here on
                if (state != State.MOVING || !ch.isActive()) {
                    moveFailed(ch, null);
                    return;
                }
                link(ctx, Unpooled.EMPTY_BUFFER);
                if (state == State.DONE && ch.isActive()) {
                    ch.config().setAutoRead(true);
                }
            });
        });
    }

    private void moveFailed(Channel ch, Throwable cause) {
        // A connection closed while it was on no loop fires no channelInactive: release its linking slot here.
        LOG.info("{}: link from {}: moving to the channel's event loop failed{}", server.config().name(),
                ch.remoteAddress(), cause == null ? " (connection closed)" : ": " + cause);
        state = State.DONE;
        done();
        ch.close();
    }

    /** A connection may move to {@code loop} when the loop serves its kind of I/O (an epoll channel to an epoll loop). */
    @SuppressWarnings("unchecked")
    static boolean canMove(Channel ch, EventLoop loop) {
        return loop instanceof IoEventLoop io && ch.unsafe() instanceof IoHandle handle
                && io.isCompatible((Class<? extends IoHandle>) handle.getClass()) && !loop.isShuttingDown();
    }

    /** The session step and the link result; then the connection belongs to its {@link RedChannelClient}. */
    private void link(ChannelHandlerContext ctx, ByteBuf in) {
        SpiceServer.LinkOutcome outcome = server.completeLink(mess, target, ctx.channel());
        if (outcome.error() != SpiceLinkError.OK) {
            result(ctx, in, outcome.error(), outcome.reason());
            return;
        }
        state = State.DONE;
        done();
        RedChannelClient rcc = outcome.client();
        LOG.info("{}: linked from {} ({} header, {})", rcc.logContext(), ctx.channel().remoteAddress(),
                mess.miniHeader() ? "mini" : "full", tls ? "TLS" : "plain");
        ctx.writeAndFlush(LinkCodec.result(ctx.alloc(), SpiceLinkError.OK));
        rcc.addHandlers(ctx.pipeline(), ctx.name());
        rcc.start();
        ctx.pipeline().remove(this);
    }

    /** A link error before the reply: full structure, then close. */
    private void fail(ChannelHandlerContext ctx, ByteBuf in, int error, String why) {
        LOG.info("{}: link from {} refused ({}): {}", server.config().name(), ctx.channel().remoteAddress(), error, why);
        finish(ctx, in);
        ctx.writeAndFlush(LinkCodec.error(ctx.alloc(), error)).addListener(ChannelFutureListener.CLOSE);
    }

    /** A link result after the reply: bare u32, then close. */
    private void result(ChannelHandlerContext ctx, ByteBuf in, int error, String why) {
        LOG.info("{}: link from {} to {} refused ({}): {}", server.config().name(), ctx.channel().remoteAddress(), target, error, why);
        finish(ctx, in);
        ctx.writeAndFlush(LinkCodec.result(ctx.alloc(), error)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Close without any reply. */
    private void reject(ChannelHandlerContext ctx, ByteBuf in, String why) {
        LOG.info("{}: link from {} closed without reply: {}", server.config().name(), ctx.channel().remoteAddress(), why);
        finish(ctx, in);
        ctx.close();
    }

    private void finish(ChannelHandlerContext ctx, ByteBuf in) {
        state = State.DONE;
        in.skipBytes(in.readableBytes());
        done();
    }

    private void done() {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (!linkingReleased) {
            linkingReleased = true;
            server.linkingFinished();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        state = State.DONE;
        done();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                ? cause.getCause() : cause;
        if (c instanceof SpiceProtocolException || c instanceof java.io.IOException) {
            LOG.info("{}: link from {}: {}", server.config().name(), ctx.channel().remoteAddress(), cause.toString());
        } else {
            LOG.warn("{}: link from {}: unexpected error", server.config().name(), ctx.channel().remoteAddress(), c);
            server.countInternalError();
        }
        state = State.DONE;
        done();
        ctx.close();
    }
}
