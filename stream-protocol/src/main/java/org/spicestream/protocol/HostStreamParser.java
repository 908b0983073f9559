package org.spicestream.protocol;

import static org.spicestream.protocol.StreamProtocolException.*;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses what a host writes to the guest (host → guest), for guest-side agents and test guests. It accepts the
 * sizes the reference agent accepts; codec values it does not know are skipped (a newer host may offer them).
 */
public final class HostStreamParser extends FrameParser<HostMessage> {

    private final StreamLimits limits;

    public HostStreamParser(StreamLimits limits) {
        this.limits = limits;
    }

    public HostStreamParser() {
        this(StreamLimits.DEFAULT);
    }

    @Override
    void validateHeader(int version, int type, long size) {
        if (version != StreamLimits.PROTOCOL_VERSION) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "protocol version " + version);
        }
        if (size > limits.maxHostMessageSize()) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "host message of " + size + " bytes");
        }
        switch (type) {
            case MessageType.CAPABILITIES -> {
                if (size > StreamLimits.CAPABILITIES_MAX_BYTES) {
                    throw new StreamProtocolException(WRONG_CAPABILITIES_SIZE, size + " bytes");
                }
            }
            case MessageType.START_STOP -> {
                if (size < 1) {
                    throw new StreamProtocolException(PROTOCOL_ERROR, "empty START_STOP");
                }
            }
            case MessageType.NOTIFY_ERROR -> {
                if (size < 4) {
                    throw new StreamProtocolException(PROTOCOL_ERROR, "NOTIFY_ERROR of " + size + " bytes");
                }
            }
            default -> throw new StreamProtocolException(INVALID_MESSAGE_TYPE, "type " + type);
        }
    }

    @Override
    HostMessage decode(int type, ByteBuf payload, long arrivalNanos) {
        try {
            return switch (type) {
                case MessageType.CAPABILITIES -> Capabilities.ofBitmap(Wire.bytes(payload, payload.readableBytes()));
                case MessageType.START_STOP -> startStop(payload);
                case MessageType.NOTIFY_ERROR -> notifyError(payload);
                default -> throw new StreamProtocolException(INVALID_MESSAGE_TYPE, "type " + type);
            };
        } finally {
            payload.release();
        }
    }

    private static StartStop startStop(ByteBuf p) {
        int count = p.readUnsignedByte();
        if (p.readableBytes() != count) {
            throw new StreamProtocolException(PROTOCOL_ERROR,
                    "START_STOP announces " + count + " codecs but carries " + p.readableBytes());
        }
        List<VideoCodec> codecs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            VideoCodec codec = VideoCodec.fromWire(p.readUnsignedByte());
            if (codec != null && !codecs.contains(codec)) {
                codecs.add(codec);
            }
        }
        return new StartStop(codecs);
    }

    private static NotifyError notifyError(ByteBuf p) {
        int code = p.readIntLE();
        int end = p.indexOf(p.readerIndex(), p.writerIndex(), (byte) 0);
        int length = (end < 0 ? p.writerIndex() : end) - p.readerIndex();
        if (length + 1 > StreamLimits.NOTIFY_ERROR_TEXT_MAX_BYTES) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "NOTIFY_ERROR text of " + length + " bytes");
        }
        String text = p.toString(p.readerIndex(), length, StandardCharsets.UTF_8);
        if (text.getBytes(StandardCharsets.UTF_8).length + 1 > StreamLimits.NOTIFY_ERROR_TEXT_MAX_BYTES) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "NOTIFY_ERROR text is not UTF-8");
        }
        return new NotifyError(code, text);
    }
}
