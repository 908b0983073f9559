package org.spicestream.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.util.IllegalReferenceCountException;

/**
 * DATA: one complete encoded frame. Reference counted: whoever receives it releases it once.
 *
 * @param content the frame bytes (often a retained slice of the bytes read from the guest)
 * @param arrivalNanos {@link System#nanoTime()} when its header was complete, the frame time of B19
 */
public record Data(ByteBuf content, long arrivalNanos) implements GuestMessage, ByteBufHolder {

    public Data {
        if (content == null) {
            throw new IllegalArgumentException("content is required");
        }
    }

    /** A frame stamped now. */
    public Data(ByteBuf content) {
        this(content, System.nanoTime());
    }

    @Override
    public int type() {
        return MessageType.DATA;
    }

    @Override
    public Data copy() {
        return replace(content.copy());
    }

    @Override
    public Data duplicate() {
        return replace(content.duplicate());
    }

    @Override
    public Data retainedDuplicate() {
        return replace(content.retainedDuplicate());
    }

    @Override
    public Data replace(ByteBuf newContent) {
        return new Data(newContent, arrivalNanos);
    }

    @Override
    public int refCnt() {
        return content.refCnt();
    }

    @Override
    public Data retain() {
        content.retain();
        return this;
    }

    @Override
    public Data retain(int increment) {
        content.retain(increment);
        return this;
    }

    @Override
    public Data touch() {
        content.touch();
        return this;
    }

    @Override
    public Data touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return content.release();
    }

    @Override
    public boolean release(int decrement) {
        return content.release(decrement);
    }

    @Override
    public boolean equals(Object o) {
        // Content equality, as for Netty's DefaultByteBufHolder; the timestamp is not part of the frame.
        if (!(o instanceof Data other)) {
            return false;
        }
        try {
            return content.equals(other.content);
        } catch (IllegalReferenceCountException e) {
            return this == o;
        }
    }

    @Override
    public int hashCode() {
        return content.refCnt() > 0 ? content.hashCode() : System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "Data[" + (content.refCnt() > 0 ? content.readableBytes() + " bytes" : "released") + "]";
    }
}
