package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.spicestream.reds.testclient.SpiceTestClient;

/**
 * Arbitrary data-stage bytes (mini-header messages) from a linked client on each channel: the server answers or
 * disconnects that client with a reason, never errs internally, and keeps serving.
 */
class ChannelMessagesFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void arbitraryClientMessages(FuzzedDataProvider in) {
        FuzzRig rig = FuzzRig.get();
        FuzzRig.Target target = in.pickValue(FuzzRig.Target.values());
        SpiceTestClient client = rig.client(target);
        byte[] bytes = in.consumeRemainingAsBytes();
        if (bytes.length > 0 && client.isOpen()) {
            try {
                client.sendRaw(bytes);
            } catch (Exception closedMeanwhile) {
                // the server closed this client while we wrote (Netty rethrows the ClosedChannelException
                // unchecked): a valid outcome
            }
        }
        rig.drainClients();
        assertThat(rig.server.internalErrors()).isZero();
    }
}
