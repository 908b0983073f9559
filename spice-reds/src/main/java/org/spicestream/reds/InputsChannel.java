package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The inputs channel (type 3): keyboard and mouse to an {@link InputSink} (spice-wire §11, B59, B60). */
final class InputsChannel extends RedChannel {
    private static final Logger LOG = LoggerFactory.getLogger(InputsChannel.class);

    /** [ref] body limit on inputs (B60). */
    static final int MAX_INPUTS_MESSAGE_SIZE = 2048;
    /** One MOUSE_MOTION_ACK per this many motion/position messages (SPICE_INPUT_MOTION_ACK_BUNCH). */
    static final int MOTION_ACK_BUNCH = 4;
    /** KEY_DOWN/KEY_UP carry at most this many scancode bytes (B60). */
    static final int MAX_KEY_CODE_BYTES = 4;
    /** Text of the NOTIFY a non-TLS inputs link causes on main (B59). */
    static final String INSECURE_KEYBOARD_TEXT = "keyboard channel is insecure";

    private static final int PREFIX_E0 = 0xE0;
    private static final int PREFIX_E1 = 0xE1;
    private static final int RELEASE_BIT = 0x80;

    /** Per-connection state, touched on that connection's event loop only. */
    private static final class State {
        int motionCount;
        final Set<Integer> pressed = new LinkedHashSet<>();
    }

    private final InputSink sink;
    private final Map<RedChannelClient, State> states = new ConcurrentHashMap<>();

    InputsChannel(InputSink sink) {
        super(SpiceChannelType.INPUTS);
        this.sink = sink;
    }

    @Override
    protected int[] channelCaps() {
        return new int[] {SpiceMessages.INPUTS_CAP_KEY_SCANCODE};
    }

    @Override
    protected int maxClientMessageSize(int msgType) {
        return switch (msgType) {
            case SpiceMessages.MSGC_INPUTS_KEY_DOWN, SpiceMessages.MSGC_INPUTS_KEY_UP, SpiceMessages.MSGC_INPUTS_KEY_MODIFIERS,
                    SpiceMessages.MSGC_INPUTS_KEY_SCANCODE, SpiceMessages.MSGC_INPUTS_MOUSE_MOTION,
                    SpiceMessages.MSGC_INPUTS_MOUSE_POSITION, SpiceMessages.MSGC_INPUTS_MOUSE_PRESS,
                    SpiceMessages.MSGC_INPUTS_MOUSE_RELEASE -> MAX_INPUTS_MESSAGE_SIZE;
            default -> -1;
        };
    }

    @Override
    protected void onConnect(RedChannelClient c) {
        states.put(c, new State());
        int mods = safeModifiers();
        c.send(new OutgoingMessage(SpiceMessages.MSG_INPUTS_INIT, c.alloc().buffer(2).writeShortLE(mods)));
        RedChannelClient main = ((Session) c.session()).main();
        if (main != null) {
            main.sendNotify(SpiceMessages.NOTIFY_SEVERITY_WARN, SpiceMessages.NOTIFY_VISIBILITY_HIGH, INSECURE_KEYBOARD_TEXT);
        }
    }

    @Override
    protected void onDisconnect(RedChannelClient c) {
        State st = states.remove(c);
        if (st == null) {
            return;
        }
        for (int code : st.pressed) {
            call(() -> sink.keyReleased(code));
        }
        if (!st.pressed.isEmpty()) {
            LOG.debug("{}: released {} keys still down", c.logContext(), st.pressed.size());
        }
        st.pressed.clear();
        call(sink::releaseAll);
    }

    @Override
    protected void onMessage(RedChannelClient c, int msgType, ByteBuf body) {
        State st = states.get(c);
        if (st == null) {
            return;
        }
        switch (msgType) {
            case SpiceMessages.MSGC_INPUTS_KEY_DOWN, SpiceMessages.MSGC_INPUTS_KEY_UP -> {
                need(body, 4, msgType);
                long code = body.readUnsignedIntLE();
                byte[] bytes = new byte[MAX_KEY_CODE_BYTES];
                int n = 0;
                for (; n < MAX_KEY_CODE_BYTES; n++) {
                    int b = (int) (code >>> (8 * n)) & 0xFF;
                    if (b == 0) {
                        break;
                    }
                    bytes[n] = (byte) b;
                }
                scancodes(st, bytes, n);
            }
            case SpiceMessages.MSGC_INPUTS_KEY_SCANCODE -> {
                byte[] bytes = new byte[body.readableBytes()];
                body.readBytes(bytes);
                scancodes(st, bytes, bytes.length);
            }
            case SpiceMessages.MSGC_INPUTS_KEY_MODIFIERS -> {
                need(body, 2, msgType);
                int mods = body.readUnsignedShortLE();
                call(() -> sink.keyModifiers(mods));
            }
            case SpiceMessages.MSGC_INPUTS_MOUSE_MOTION -> {
                need(body, 10, msgType);
                int dx = body.readIntLE();
                int dy = body.readIntLE();
                int buttons = body.readUnsignedShortLE();
                call(() -> sink.mouseMotion(dx, dy, buttons));
                motion(c, st);
            }
            case SpiceMessages.MSGC_INPUTS_MOUSE_POSITION -> {
                need(body, 11, msgType);
                int x = body.readIntLE();
                int y = body.readIntLE();
                int buttons = body.readUnsignedShortLE();
                int display = body.readUnsignedByte();
                call(() -> sink.mousePosition(x, y, buttons, display));
                motion(c, st);
            }
            case SpiceMessages.MSGC_INPUTS_MOUSE_PRESS, SpiceMessages.MSGC_INPUTS_MOUSE_RELEASE -> {
                need(body, 3, msgType);
                int button = body.readUnsignedByte();
                int buttons = body.readUnsignedShortLE();
                if (msgType == SpiceMessages.MSGC_INPUTS_MOUSE_PRESS) {
                    call(() -> sink.mousePress(button, buttons));
                } else {
                    call(() -> sink.mouseRelease(button, buttons));
                }
            }
            default -> throw new SpiceProtocolException("unexpected inputs message " + msgType);
        }
    }

    private void motion(RedChannelClient c, State st) {
        if (++st.motionCount % MOTION_ACK_BUNCH == 0) {
            c.send(new OutgoingMessage(SpiceMessages.MSG_INPUTS_MOUSE_MOTION_ACK, c.alloc().buffer(0)));
        }
    }

    /** Set-1 scancode bytes → press/release events; 0xE0/0xE1 prefix the next byte. */
    private void scancodes(State st, byte[] bytes, int n) {
        int prefix = 0;
        for (int i = 0; i < n; i++) {
            int b = bytes[i] & 0xFF;
            if (b == PREFIX_E0 || b == PREFIX_E1) {
                prefix = b;
                continue;
            }
            int code = prefix << 8 | (b & ~RELEASE_BIT);
            prefix = 0;
            if ((b & RELEASE_BIT) != 0) {
                st.pressed.remove(code);
                call(() -> sink.keyReleased(code));
            } else {
                st.pressed.add(code);
                call(() -> sink.keyPressed(code));
            }
        }
    }

    private int safeModifiers() {
        try {
            return sink.keyboardModifiers() & 0xFFFF;
        } catch (RuntimeException e) {
            LOG.warn("input sink failed to report keyboard modifiers", e);
            return 0;
        }
    }

    private static void need(ByteBuf body, int min, int type) {
        if (body.readableBytes() < min) {
            throw new SpiceProtocolException("inputs message " + type + " body too short: " + body.readableBytes());
        }
    }

    private static void call(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("input sink failed", e);
        }
    }
}
