package org.spicestream.protocol;

import java.nio.charset.StandardCharsets;

/**
 * DEVICE_DISPLAY_INFO: which monitor of which graphics device this stream shows.
 *
 * @param streamId the guest's index of this stream (u32)
 * @param deviceDisplayId monitor index on the graphics device (u32)
 * @param deviceAddress e.g. {@code pci/0000/02.0}, without the NUL
 */
public record DeviceDisplayInfo(long streamId, long deviceDisplayId, String deviceAddress) implements GuestMessage {

    public DeviceDisplayInfo {
        if (streamId < 0 || streamId > 0xffffffffL || deviceDisplayId < 0 || deviceDisplayId > 0xffffffffL) {
            throw new IllegalArgumentException("ids are u32");
        }
        if (deviceAddress == null) {
            throw new IllegalArgumentException("deviceAddress is required");
        }
        if (deviceAddress.getBytes(StandardCharsets.UTF_8).length + 1 > StreamLimits.DEVICE_ADDRESS_MAX_BYTES) {
            throw new IllegalArgumentException("device address longer than "
                    + (StreamLimits.DEVICE_ADDRESS_MAX_BYTES - 1) + " bytes");
        }
    }

    @Override
    public int type() {
        return MessageType.DEVICE_DISPLAY_INFO;
    }
}
