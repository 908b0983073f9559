package org.spicestream.reds.internal.web;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the SPICE byte stream over an upgraded WebSocket (spice-wire §2): the payload of each binary (or
 * continuation) frame goes on as a plain {@link ByteBuf}, frame boundaries meaning nothing; the buffers
 * the link handler and the channel client write are gathered without copying and sent as one binary frame
 * per flush (or per {@link #MAX_COMPONENTS_PER_FRAME} buffers).
 */
final class WebSocketBytesAdapter extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketBytesAdapter.class);

    /** Buffers gathered into one outgoing frame before it is written without waiting for the flush. */
    static final int MAX_COMPONENTS_PER_FRAME = 256;

    private final WebSocketServerHandshaker handshaker;
    private CompositeByteBuf pending;
    private final List<ChannelPromise> pendingPromises = new ArrayList<>();
    private boolean closing;

    WebSocketBytesAdapter(WebSocketServerHandshaker handshaker) {
        this.handshaker = handshaker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (frame instanceof BinaryWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
            if (closing) {
                frame.release();
                return;
            }
            // ownership of the payload passes to the link handler / channel client
            ctx.fireChannelRead(frame.content());
        } else if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content()));
        } else if (frame instanceof PongWebSocketFrame) {
            frame.release();
        } else if (frame instanceof CloseWebSocketFrame close) {
            LOG.debug("WebSocket from {}: close frame {}", ctx.channel().remoteAddress(), close.statusCode());
            closing = true;
            discardPending(new ClosedChannelException());
            handshaker.close(ctx, close);
        } else {
            // text frames carry no SPICE data
            LOG.info("WebSocket from {}: unexpected {}, closing", ctx.channel().remoteAddress(), frame.getClass().getSimpleName());
            frame.release();
            closing = true;
            discardPending(new ClosedChannelException());
            handshaker.close(ctx, new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE));
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            writePending(ctx);
            ctx.write(msg, promise);
            return;
        }
        if (closing || !ctx.channel().isActive()) {
            buf.release();
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        if (pending == null) {
            pending = ctx.alloc().compositeBuffer(MAX_COMPONENTS_PER_FRAME);
        }
        pending.addComponent(true, buf);
        if (!promise.isVoid()) {
            pendingPromises.add(promise);
        }
        if (pending.numComponents() >= MAX_COMPONENTS_PER_FRAME) {
            writePending(ctx);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        writePending(ctx);
        ctx.flush();
    }

    private void writePending(ChannelHandlerContext ctx) {
        if (pending == null && pendingPromises.isEmpty()) {
            return;
        }
        CompositeByteBuf data = pending;
        pending = null;
        List<ChannelPromise> promises = new ArrayList<>(pendingPromises);
        pendingPromises.clear();
        if (data == null || !data.isReadable()) {
            if (data != null) {
                data.release();
            }
            promises.forEach(ChannelPromise::trySuccess);
            return;
        }
        if (promises.isEmpty()) {
            ctx.write(new BinaryWebSocketFrame(data), ctx.voidPromise());
        } else {
            ctx.write(new BinaryWebSocketFrame(data)).addListener((ChannelFutureListener) f -> {
                for (ChannelPromise p : promises) {
                    if (f.isSuccess()) {
                        p.trySuccess();
                    } else {
                        p.tryFailure(f.cause());
                    }
                }
            });
        }
    }

    private void discardPending(Throwable cause) {
        if (pending != null) {
            pending.release();
            pending = null;
        }
        for (ChannelPromise p : pendingPromises) {
            p.tryFailure(cause);
        }
        pendingPromises.clear();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        // flush what was written before the close (link errors are written, then closed)
        writePending(ctx);
        ctx.flush();
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        discardPending(new ClosedChannelException());
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discardPending(new ClosedChannelException());
    }
}
