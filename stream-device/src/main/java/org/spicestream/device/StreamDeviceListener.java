package org.spicestream.device;

import org.spicestream.protocol.DeviceDisplayInfo;
import org.spicestream.streamchannel.StreamReport;

/** Optional observer of a stream device (monitor identity, quality). Called on the device's executor. */
public interface StreamDeviceListener {

    /** The guest identified the monitor it streams (B17). */
    default void displayInfo(StreamDevice device, DeviceDisplayInfo info) {}

    /** The guest's QUALITY_INDICATOR text (only after the capability was agreed). */
    default void qualityIndicator(StreamDevice device, String text) {}

    /** A client's STREAM_REPORT for this device's stream. */
    default void streamReport(StreamDevice device, String client, StreamReport report) {}

    StreamDeviceListener NONE = new StreamDeviceListener() {};
}
