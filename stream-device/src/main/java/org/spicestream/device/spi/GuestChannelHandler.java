package org.spicestream.device.spi;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bridges one Netty channel (one guest connection) to a {@link GuestPortHandler}: the building block of
 * Netty-based transports.
 *
 * <p>Active = port opened, inactive = port closed. Received buffers are lent to the handler and released
 * afterwards. While paused, auto-read is off and any buffer Netty still delivers is held (in order) and handed
 * over on resume, so no {@code dataReceived} happens while paused. Held bytes are dropped (released) when the
 * connection closes. Not sharable: one instance per channel; all methods run on the channel's event loop.
 */
public final class GuestChannelHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(GuestChannelHandler.class);

    private final GuestPortHandler port;
    private final String deviceName;
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private boolean paused;
    private boolean opened;
    private boolean delivering;

    /**
     * @param port receives the events
     * @param deviceName used in log lines
     * @param paused whether reading starts paused
     */
    public GuestChannelHandler(GuestPortHandler port, String deviceName, boolean paused) {
        this.port = port;
        this.deviceName = deviceName;
        this.paused = paused;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.channel().config().setAutoRead(!paused);
    }

    /** Pauses or resumes reading; must be called on the channel's event loop. */
    public void setPaused(boolean paused) {
        if (this.paused == paused) {
            return;
        }
        this.paused = paused;
        if (!paused) {
            drainHeld();
        }
        // The handler may have paused again while draining.
        if (ctx != null) {
            ctx.channel().config().setAutoRead(!this.paused);
        }
    }

    /** Whether reading is paused. */
    public boolean isPaused() {
        return paused;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        opened = true;
        try {
            port.portOpened();
        } catch (RuntimeException e) {
            log.error("{}: port-opened handler failed", deviceName, e);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            log.warn("{}: ignoring unexpected message {}", deviceName, msg.getClass().getName());
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!opened) {
            buf.release();
            return;
        }
        if (paused || !held.isEmpty() || delivering) {
            held.add(buf);
            return;
        }
        deliver(buf);
    }

    private void drainHeld() {
        if (delivering) {
            return;
        }
        delivering = true;
        try {
            while (!paused && opened && !held.isEmpty()) {
                deliver(held.poll());
            }
        } finally {
            delivering = false;
        }
    }

    private void deliver(ByteBuf buf) {
        try {
            port.dataReceived(buf);
        } catch (RuntimeException e) {
            log.error("{}: data handler failed", deviceName, e);
        } finally {
            buf.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        long dropped = 0;
        ByteBuf buf;
        while ((buf = held.poll()) != null) {
            dropped += buf.readableBytes();
            buf.release();
        }
        if (dropped > 0) {
            log.debug("{}: dropped {} guest bytes held while reading was paused, connection closed", deviceName,
                    dropped);
        }
        if (opened) {
            opened = false;
            try {
                port.portClosed();
            } catch (RuntimeException e) {
                log.error("{}: port-closed handler failed", deviceName, e);
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        try {
            port.writabilityChanged(ctx.channel().isWritable());
        } catch (RuntimeException e) {
            log.error("{}: writability handler failed", deviceName, e);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.info("{}: guest connection {} failed: {}", deviceName, ctx.channel().remoteAddress(),
                    cause.toString());
        } else {
            log.warn("{}: error on guest connection {}", deviceName, ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
