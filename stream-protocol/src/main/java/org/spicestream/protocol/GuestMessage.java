package org.spicestream.protocol;

/** A message the guest sends to the host. */
public sealed interface GuestMessage extends StreamMessage
        permits Capabilities, Format, Data, CursorSet, CursorMove, DeviceDisplayInfo, QualityIndicator {}
