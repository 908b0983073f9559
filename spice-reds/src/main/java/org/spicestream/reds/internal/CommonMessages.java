package org.spicestream.reds.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.spicestream.reds.OutgoingMessage;
import org.spicestream.reds.SpiceMessages;

/** Encoders of the common server → client messages (spice-wire §6.1) and the data headers (§4.1). */
public final class CommonMessages {
    private CommonMessages() {}

    public static OutgoingMessage setAck(ByteBufAllocator alloc, int generation, int window) {
        return new OutgoingMessage(SpiceMessages.MSG_SET_ACK, alloc.buffer(8).writeIntLE(generation).writeIntLE(window));
    }

    public static OutgoingMessage ping(ByteBufAllocator alloc, int id, long timestamp) {
        return new OutgoingMessage(SpiceMessages.MSG_PING, alloc.buffer(12).writeIntLE(id).writeLongLE(timestamp));
    }

    public static OutgoingMessage disconnecting(ByteBufAllocator alloc, long timestamp, int reason) {
        return new OutgoingMessage(SpiceMessages.MSG_DISCONNECTING, alloc.buffer(12).writeLongLE(timestamp).writeIntLE(reason));
    }

    /** NOTIFY as the reference writes it: message_len without the NUL, NUL appended. */
    public static OutgoingMessage notify(ByteBufAllocator alloc, long timestamp, int severity, int visibility, String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = alloc.buffer(24 + t.length + 1);
        b.writeLongLE(timestamp).writeIntLE(severity).writeIntLE(visibility).writeIntLE(0).writeIntLE(t.length);
        b.writeBytes(t).writeByte(0);
        return new OutgoingMessage(SpiceMessages.MSG_NOTIFY, b);
    }

    /** Writes a mini header (u16 type, u32 size). */
    public static void writeMiniHeader(ByteBuf out, int type, int bodySize) {
        out.writeShortLE(type).writeIntLE(bodySize);
    }

    /** Writes a full header (u64 serial, u16 type, u32 size, u32 sub_list = 0). */
    public static void writeFullHeader(ByteBuf out, long serial, int type, int bodySize) {
        out.writeLongLE(serial).writeShortLE(type).writeIntLE(bodySize).writeIntLE(0);
    }
}
