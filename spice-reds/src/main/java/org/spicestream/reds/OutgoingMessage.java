package org.spicestream.reds;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.util.Objects;

/**
 * One server → client message: the core writes the data header, then {@code head}, then {@code payload}
 * (nullable) without copying them, and releases both.
 */
public record OutgoingMessage(int type, ByteBuf head, ByteBuf payload) {

    public OutgoingMessage {
        Objects.requireNonNull(head, "head");
        if (type < 0 || type > 0xFFFF) {
            throw new IllegalArgumentException("message type out of u16 range: " + type);
        }
    }

    /** A message without a payload. */
    public OutgoingMessage(int type, ByteBuf head) {
        this(type, head, null);
    }

    /** Body size: head + payload bytes. */
    public int bodySize() {
        return head.readableBytes() + (payload == null ? 0 : payload.readableBytes());
    }

    /** Releases both buffers (safe to call once). */
    public void release() {
        ReferenceCountUtil.safeRelease(head);
        if (payload != null) {
            ReferenceCountUtil.safeRelease(payload);
        }
    }
}
