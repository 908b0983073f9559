package org.spicestream.reds.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** One client → server message as {@link SpiceMessageDecoder} emits it: its type and its body (released by the reader). */
public final class InboundMessage extends DefaultByteBufHolder {

    private final int type;

    public InboundMessage(int type, ByteBuf body) {
        super(body);
        this.type = type;
    }

    public int type() {
        return type;
    }

    @Override
    public String toString() {
        return "InboundMessage(type=" + type + ", " + content().readableBytes() + " bytes)";
    }
}
