package org.spicestream.protocol;

/** One message of the stream-device protocol. */
public sealed interface StreamMessage permits GuestMessage, HostMessage {

    /** The header {@code type} of this message ({@link MessageType}). */
    int type();
}
