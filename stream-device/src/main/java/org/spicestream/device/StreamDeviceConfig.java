package org.spicestream.device;

import org.spicestream.protocol.StreamLimits;
import org.spicestream.streamchannel.StreamChannelConfig;

/**
 * Tunables of a stream device.
 *
 * @param limits guest message bounds (DATA size may be lowered)
 * @param channel stream-channel tunables
 * @param strictCodecs a FORMAT whose codec was not in the last START_STOP list is a protocol error (R3)
 * @param qualityIndicator announce QUALITY_INDICATOR support to the guest
 * @param maxQueuedWriteBytes bound of the host → guest queue
 */
public record StreamDeviceConfig(StreamLimits limits, StreamChannelConfig channel, boolean strictCodecs,
        boolean qualityIndicator, int maxQueuedWriteBytes) {

    public static final StreamDeviceConfig DEFAULT = new StreamDeviceConfig(StreamLimits.DEFAULT,
            StreamChannelConfig.DEFAULT, false, true, CharDevice.DEFAULT_MAX_QUEUED_WRITE_BYTES);

    public StreamDeviceConfig withLimits(StreamLimits newLimits) {
        return new StreamDeviceConfig(newLimits, channel, strictCodecs, qualityIndicator, maxQueuedWriteBytes);
    }

    public StreamDeviceConfig withChannel(StreamChannelConfig newChannel) {
        return new StreamDeviceConfig(limits, newChannel, strictCodecs, qualityIndicator, maxQueuedWriteBytes);
    }
}
