package org.spicestream.protocol;

/**
 * The bounds a decoder enforces. The constants are the protocol's own limits; an instance carries the ones a
 * server may lower by configuration.
 *
 * @param maxDataSize largest DATA payload accepted (inclusive), at most {@link #DATA_MAX_BYTES}
 * @param maxSurfaceDimension largest FORMAT width or height accepted (R3)
 * @param maxHostMessageSize largest host → guest payload a guest-side decoder accepts
 */
public record StreamLimits(int maxDataSize, int maxSurfaceDimension, int maxHostMessageSize) {

    /** The only protocol version (header byte 0). */
    public static final int PROTOCOL_VERSION = 1;
    /** Size of every message header. */
    public static final int HEADER_SIZE = 8;
    /** Largest DATA payload the reference accepts: 32 MiB, inclusive. */
    public static final int DATA_MAX_BYTES = 32 * 1024 * 1024;
    /** Largest CAPABILITIES payload ({@code STREAM_MSG_CAPABILITIES_MAX_BYTES}). */
    public static final int CAPABILITIES_MAX_BYTES = 1024;
    /** Exact FORMAT payload size. */
    public static final int FORMAT_SIZE = 12;
    /** Exact CURSOR_MOVE payload size. */
    public static final int CURSOR_MOVE_SIZE = 8;
    /** Fixed part of CURSOR_SET (before pixel data); also the smallest legal payload. */
    public static final int CURSOR_SET_HEADER_SIZE = 12;
    /** Largest cursor width or height. */
    public static final int CURSOR_MAX_DIMENSION = 1024;
    /** Largest CURSOR_SET payload: 12 + (1024·4 + ⌈1024/8⌉)·1024, a COLOR32 cursor with per-row mask padding. */
    public static final int CURSOR_SET_MAX_BYTES = CURSOR_SET_HEADER_SIZE
            + (CURSOR_MAX_DIMENSION * 4 + CURSOR_MAX_DIMENSION / 8) * CURSOR_MAX_DIMENSION;
    /** Fixed part of DEVICE_DISPLAY_INFO; smaller payloads are a protocol error (R4). */
    public static final int DEVICE_DISPLAY_INFO_HEADER_SIZE = 12;
    /** Largest device address, including its NUL; longer ones are truncated (B17). */
    public static final int DEVICE_ADDRESS_MAX_BYTES = 256;
    /** Largest DEVICE_DISPLAY_INFO payload. */
    public static final int DEVICE_DISPLAY_INFO_MAX_BYTES = DEVICE_DISPLAY_INFO_HEADER_SIZE + DEVICE_ADDRESS_MAX_BYTES;
    /** Largest QUALITY_INDICATOR payload; the spec leaves it open and suggests the CAPABILITIES bound. */
    public static final int QUALITY_INDICATOR_MAX_BYTES = 1024;
    /** Default largest FORMAT width or height: 8192 already means 256 MiB of client surface. */
    public static final int DEFAULT_MAX_SURFACE_DIMENSION = 8192;
    /** Largest host → guest payload the reference agent accepts. */
    public static final int HOST_MESSAGE_MAX_BYTES = 4096;
    /** Largest codec list in START_STOP (older reference agents reject a payload of 256 bytes or more). */
    public static final int START_STOP_MAX_CODECS = 254;
    /** Largest NOTIFY_ERROR text the reference agent accepts, in UTF-8 bytes. */
    public static final int NOTIFY_ERROR_TEXT_MAX_BYTES = 1024;

    /** The protocol's own limits. */
    public static final StreamLimits DEFAULT =
            new StreamLimits(DATA_MAX_BYTES, DEFAULT_MAX_SURFACE_DIMENSION, HOST_MESSAGE_MAX_BYTES);

    public StreamLimits {
        if (maxDataSize < 0 || maxDataSize > DATA_MAX_BYTES) {
            throw new IllegalArgumentException("maxDataSize must be 0.." + DATA_MAX_BYTES + ": " + maxDataSize);
        }
        if (maxSurfaceDimension < 1) {
            throw new IllegalArgumentException("maxSurfaceDimension must be positive: " + maxSurfaceDimension);
        }
        if (maxHostMessageSize < 1 + 1 || maxHostMessageSize > HOST_MESSAGE_MAX_BYTES) {
            throw new IllegalArgumentException(
                    "maxHostMessageSize must be 2.." + HOST_MESSAGE_MAX_BYTES + ": " + maxHostMessageSize);
        }
    }

    /** These limits with a lower DATA bound. */
    public StreamLimits withMaxDataSize(int bytes) {
        return new StreamLimits(bytes, maxSurfaceDimension, maxHostMessageSize);
    }

    /** These limits with another surface bound. */
    public StreamLimits withMaxSurfaceDimension(int pixels) {
        return new StreamLimits(maxDataSize, pixels, maxHostMessageSize);
    }
}
