package org.spicestream.protocol;

/** A message the host sends to the guest. */
public sealed interface HostMessage extends StreamMessage permits Capabilities, StartStop, NotifyError {}
