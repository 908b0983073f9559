package org.spicestream.distribution.config;

import java.net.URI;
import org.spicestream.reds.agent.AgentConfig;

/**
 * A VM's guest agent (spice-vdagent, virtio-serial port {@code com.redhat.spice.0}): clipboard and display size.
 *
 * @param port the agent's port, with the same schemes as a stream device; null: the VM has no agent port
 * @param copyPaste relay the clipboard between viewers and the guest
 * @param maxMessageBytes largest agent message a viewer or the agent may send
 */
public record VmAgent(URI port, boolean copyPaste, long maxMessageBytes) {

    /** No agent port; clipboard relayed, default message bound. */
    public static final VmAgent NONE = new VmAgent(null, true, AgentConfig.DEFAULT_MAX_MESSAGE_BYTES);

    public VmAgent {
        if (port != null && port.getScheme() == null) {
            throw new IllegalArgumentException("agent port '" + port + "' has no scheme (unix:/path, tcp://host:port)");
        }
        new AgentConfig(copyPaste, maxMessageBytes); // the server's checks of the bound
    }

    /** What the VM's SPICE server relays. */
    public AgentConfig relay() {
        return new AgentConfig(copyPaste, maxMessageBytes);
    }
}
