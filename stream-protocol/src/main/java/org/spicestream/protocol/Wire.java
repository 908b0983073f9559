package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;

/** Byte-level helpers and the encoder of both directions. */
final class Wire {

    private Wire() {}

    static byte[] bytes(ByteBuf in, int length) {
        byte[] bytes = new byte[length];
        in.readBytes(bytes);
        return bytes;
    }

    /**
     * Text up to the first NUL within {@code length} bytes, with every byte outside printable ASCII replaced
     * by '?': the fields it serves (device addresses, quality text) are ASCII, and guest text ends up in logs.
     */
    static String printableAscii(ByteBuf in, int length) {
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int b = in.getUnsignedByte(in.readerIndex() + i);
            if (b == 0) {
                break;
            }
            text.append(b >= 0x20 && b < 0x7f ? (char) b : '?');
        }
        in.skipBytes(length);
        return text.toString();
    }

    static void writeHeader(ByteBuf out, int type, int size) {
        out.writeByte(StreamLimits.PROTOCOL_VERSION);
        out.writeByte(0);
        out.writeShortLE(type);
        out.writeIntLE(size);
    }

    /** Encodes one message; a DATA payload is not copied but retained into the result. */
    static ByteBuf encode(StreamMessage message, ByteBufAllocator alloc) {
        if (message instanceof Data data) {
            ByteBuf header = alloc.buffer(StreamLimits.HEADER_SIZE);
            writeHeader(header, MessageType.DATA, data.content().readableBytes());
            CompositeByteBuf frame = alloc.compositeBuffer(2);
            frame.addComponent(true, header);
            frame.addComponent(true, data.content().retainedDuplicate());
            return frame;
        }
        ByteBuf out = alloc.buffer();
        try {
            writeHeader(out, message.type(), 0);
            int start = out.writerIndex();
            writePayload(message, out);
            out.setIntLE(4, out.writerIndex() - start);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    private static void writePayload(StreamMessage message, ByteBuf out) {
        if (message instanceof Capabilities c) {
            out.writeBytes(c.bitmap());
        } else if (message instanceof Format f) {
            out.writeIntLE(f.width());
            out.writeIntLE(f.height());
            out.writeByte(f.codec().wireValue());
            out.writeZero(3);
        } else if (message instanceof CursorSet c) {
            out.writeShortLE(c.width());
            out.writeShortLE(c.height());
            out.writeShortLE(c.hotSpotX());
            out.writeShortLE(c.hotSpotY());
            out.writeByte(c.cursorType().wireValue());
            out.writeZero(3);
            c.writePixels(out);
        } else if (message instanceof CursorMove m) {
            out.writeIntLE(m.x());
            out.writeIntLE(m.y());
        } else if (message instanceof DeviceDisplayInfo d) {
            byte[] address = d.deviceAddress().getBytes(StandardCharsets.UTF_8);
            out.writeIntLE((int) d.streamId());
            out.writeIntLE((int) d.deviceDisplayId());
            out.writeIntLE(address.length + 1);
            out.writeBytes(address);
            out.writeByte(0);
        } else if (message instanceof QualityIndicator q) {
            out.writeBytes(q.text().getBytes(StandardCharsets.UTF_8));
            out.writeByte(0);
        } else if (message instanceof StartStop s) {
            out.writeByte(s.codecs().size());
            for (VideoCodec codec : s.codecs()) {
                out.writeByte(codec.wireValue());
            }
        } else if (message instanceof NotifyError n) {
            out.writeIntLE(n.errorCode());
            out.writeBytes(n.text().getBytes(StandardCharsets.UTF_8));
            out.writeByte(0);
        } else {
            throw new IllegalStateException("unexpected message " + message);
        }
    }
}
