package org.spicestream.protocol;

import static org.spicestream.protocol.StreamProtocolException.*;

import io.netty.buffer.ByteBuf;

/**
 * Parses what a guest writes into the stream port (guest → host), validating every header and payload as the
 * reference server does (B8–B17) plus the stricter checks R2–R4. Not thread-safe: one parser per port.
 */
public final class GuestStreamParser extends FrameParser<GuestMessage> {

    private final StreamLimits limits;
    private volatile boolean qualityIndicatorAllowed;
    private long ignoredMessages;

    public GuestStreamParser(StreamLimits limits) {
        this.limits = limits;
    }

    public GuestStreamParser() {
        this(StreamLimits.DEFAULT);
    }

    public StreamLimits limits() {
        return limits;
    }

    /** Accept QUALITY_INDICATOR; set once both sides announced the capability (otherwise it is an invalid type). */
    public void setQualityIndicatorAllowed(boolean allowed) {
        qualityIndicatorAllowed = allowed;
    }

    /** Messages consumed without effect, as the reference does (a DEVICE_DISPLAY_INFO without a usable address). */
    public long ignoredMessages() {
        return ignoredMessages;
    }

    @Override
    void validateHeader(int version, int type, long size) {
        if (version != StreamLimits.PROTOCOL_VERSION) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "protocol version " + version);
        }
        switch (type) {
            case MessageType.CAPABILITIES -> {
                if (size > StreamLimits.CAPABILITIES_MAX_BYTES) {
                    throw new StreamProtocolException(WRONG_CAPABILITIES_SIZE, size + " bytes");
                }
            }
            case MessageType.FORMAT -> {
                if (size != StreamLimits.FORMAT_SIZE) {
                    throw new StreamProtocolException(WRONG_FORMAT_SIZE, size + " bytes");
                }
            }
            case MessageType.DATA -> {
                if (size > limits.maxDataSize()) {
                    throw new StreamProtocolException(DATA_TOO_LARGE, size + " bytes, limit " + limits.maxDataSize());
                }
            }
            case MessageType.CURSOR_SET -> {
                if (size < StreamLimits.CURSOR_SET_HEADER_SIZE || size > StreamLimits.CURSOR_SET_MAX_BYTES) {
                    throw new StreamProtocolException(CURSOR_SIZE_INVALID, size + " bytes");
                }
            }
            case MessageType.CURSOR_MOVE -> {
                if (size != StreamLimits.CURSOR_MOVE_SIZE) {
                    throw new StreamProtocolException(WRONG_CURSOR_MOVE_SIZE, size + " bytes");
                }
            }
            case MessageType.DEVICE_DISPLAY_INFO -> {
                if (size > StreamLimits.DEVICE_DISPLAY_INFO_MAX_BYTES) {
                    throw new StreamProtocolException(DEVICE_DISPLAY_INFO_TOO_LARGE, size + " bytes");
                }
                if (size < StreamLimits.DEVICE_DISPLAY_INFO_HEADER_SIZE) {
                    throw new StreamProtocolException(PROTOCOL_ERROR, "DEVICE_DISPLAY_INFO of " + size + " bytes");
                }
            }
            case MessageType.QUALITY_INDICATOR -> {
                if (!qualityIndicatorAllowed) {
                    throw new StreamProtocolException(INVALID_MESSAGE_TYPE, "QUALITY_INDICATOR not negotiated");
                }
                if (size > StreamLimits.QUALITY_INDICATOR_MAX_BYTES) {
                    throw new StreamProtocolException(PROTOCOL_ERROR, "QUALITY_INDICATOR of " + size + " bytes");
                }
            }
            default -> throw new StreamProtocolException(INVALID_MESSAGE_TYPE, "type " + type);
        }
    }

    @Override
    GuestMessage decode(int type, ByteBuf payload, long arrivalNanos) {
        if (type == MessageType.DATA) {
            return new Data(payload, arrivalNanos);
        }
        try {
            return switch (type) {
                case MessageType.CAPABILITIES -> Capabilities.ofBitmap(Wire.bytes(payload, payload.readableBytes()));
                case MessageType.FORMAT -> format(payload);
                case MessageType.CURSOR_SET -> cursorSet(payload);
                case MessageType.CURSOR_MOVE -> new CursorMove(payload.readIntLE(), payload.readIntLE());
                case MessageType.DEVICE_DISPLAY_INFO -> deviceDisplayInfo(payload);
                case MessageType.QUALITY_INDICATOR -> new QualityIndicator(
                        Wire.printableAscii(payload, payload.readableBytes()));
                default -> throw new StreamProtocolException(INVALID_MESSAGE_TYPE, "type " + type);
            };
        } finally {
            payload.release();
        }
    }

    private Format format(ByteBuf p) {
        long width = p.readUnsignedIntLE();
        long height = p.readUnsignedIntLE();
        int codecValue = p.readUnsignedByte();
        if (width == 0 || height == 0 || width > limits.maxSurfaceDimension()
                || height > limits.maxSurfaceDimension()) {
            throw new StreamProtocolException(PROTOCOL_ERROR,
                    "stream size " + width + "x" + height + " (limit " + limits.maxSurfaceDimension() + ")");
        }
        VideoCodec codec = VideoCodec.fromWire(codecValue);
        if (codec == null) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "codec " + codecValue);
        }
        return new Format((int) width, (int) height, codec);
    }

    private static CursorSet cursorSet(ByteBuf p) {
        int width = p.readUnsignedShortLE();
        int height = p.readUnsignedShortLE();
        int hotX = p.readUnsignedShortLE();
        int hotY = p.readUnsignedShortLE();
        int typeValue = p.readUnsignedByte();
        p.skipBytes(3);
        if (width > StreamLimits.CURSOR_MAX_DIMENSION || height > StreamLimits.CURSOR_MAX_DIMENSION) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "cursor " + width + "x" + height);
        }
        CursorType cursorType = CursorType.fromWire(typeValue);
        if (cursorType == null) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "cursor type " + typeValue);
        }
        int required = cursorType.requiredDataBytes(width, height);
        if (p.readableBytes() < required) {
            throw new StreamProtocolException(PROTOCOL_ERROR, "cursor " + width + "x" + height + " " + cursorType
                    + " needs " + required + " data bytes, got " + p.readableBytes());
        }
        return CursorSet.wrap(width, height, hotX, hotY, cursorType, Wire.bytes(p, required));
    }

    private DeviceDisplayInfo deviceDisplayInfo(ByteBuf p) {
        long streamId = p.readUnsignedIntLE();
        long displayId = p.readUnsignedIntLE();
        long addressLength = Math.min(p.readUnsignedIntLE(), StreamLimits.DEVICE_ADDRESS_MAX_BYTES);
        if (addressLength == 0 || addressLength > p.readableBytes()) {
            ignoredMessages++;
            return null;
        }
        // The last byte is NUL by definition (B17 forces it), so the text is at most addressLength - 1 bytes.
        return new DeviceDisplayInfo(streamId, displayId, Wire.printableAscii(p, (int) addressLength - 1));
    }
}
