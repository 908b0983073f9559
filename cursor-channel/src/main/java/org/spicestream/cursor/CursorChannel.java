package org.spicestream.cursor;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.cursor.internal.CursorMessages;
import org.spicestream.cursor.internal.CursorShape;
import org.spicestream.protocol.CursorSet;
import org.spicestream.reds.OutgoingMessage;
import org.spicestream.reds.RedChannel;
import org.spicestream.reds.RedChannelClient;
import org.spicestream.reds.SpiceChannelType;

/**
 * The cursor channel of a stream device (B39–B43): keeps the guest's last shape, position and visibility and
 * sends them to every client. State is confined to the feeding device's executor.
 */
public final class CursorChannel extends RedChannel {

    private static final Logger LOG = LoggerFactory.getLogger(CursorChannel.class);

    /** Largest client message body; the cursor channel has no client messages of its own. */
    public static final int MAX_CLIENT_MESSAGE_SIZE = 0;

    private final EventExecutor executor;
    private final String deviceName;
    private final List<RedChannelClient> clients = new ArrayList<>();
    private CursorShape shape;
    private int x;
    private int y;
    private boolean visible = true;

    public CursorChannel(String deviceName, EventExecutor executor) {
        super(SpiceChannelType.CURSOR);
        this.deviceName = deviceName;
        this.executor = executor;
    }

    /** Guest CURSOR_SET (B40): the shape becomes current and visible; clients get it with position (0,0). */
    public void setCursor(CursorSet cursor) {
        assert executor.inEventLoop();
        shape = CursorShape.fromGuest(cursor.cursorType().wireValue(), cursor.width(), cursor.height(),
                cursor.hotSpotX(), cursor.hotSpotY(), cursor.pixels());
        visible = true;
        for (RedChannelClient c : clients) {
            c.send(new OutgoingMessage(CursorMessages.MSG_SET, CursorMessages.set(c.alloc(), 0, 0, true, shape)));
        }
    }

    /** Guest CURSOR_MOVE (B41, clamped per R4): every client gets the position. */
    public void move(int newX, int newY) {
        assert executor.inEventLoop();
        x = CursorMessages.clamp16(newX);
        y = CursorMessages.clamp16(newY);
        visible = true;
        for (RedChannelClient c : clients) {
            // Positions are superseded by the next one: a full queue may skip one without harm.
            c.trySend(new OutgoingMessage(CursorMessages.MSG_MOVE, CursorMessages.move(c.alloc(), x, y)));
        }
    }

    /** Hides the cursor until the next SET or MOVE. */
    public void hide() {
        assert executor.inEventLoop();
        visible = false;
        for (RedChannelClient c : clients) {
            c.send(new OutgoingMessage(CursorMessages.MSG_HIDE, c.alloc().buffer(0, 0)));
        }
    }

    public boolean hasShape() {
        return shape != null;
    }

    public int clientCount() {
        return clients.size();
    }

    @Override
    protected boolean usesAckWindow() {
        return true; // B39
    }

    @Override
    protected int maxClientMessageSize(int msgType) {
        return -1;
    }

    @Override
    protected void onConnect(RedChannelClient rcc) {
        executor.execute(() -> {
            if (!rcc.isConnected()) {
                return;
            }
            clients.add(rcc);
            LOG.info("{} device={}: client joined (shape {})", rcc.logContext(), deviceName,
                    shape == null ? "none" : shape.width() + "x" + shape.height());
            rcc.send(new OutgoingMessage(CursorMessages.MSG_INIT,
                    CursorMessages.init(rcc.alloc(), x, y, visible, shape))); // B42
        });
    }

    @Override
    protected void onDisconnect(RedChannelClient rcc) {
        executor.execute(() -> clients.remove(rcc));
    }

    @Override
    public String name() {
        return super.name() + " device=" + deviceName;
    }
}
