package org.spicestream.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;

/** Arbitrary bytes as the start of a SPICE connection: the link stage refuses or closes, never errs internally. */
class LinkStageFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void arbitraryLinkBytes(byte[] input) throws IOException {
        FuzzRig rig = FuzzRig.get();
        try (Socket socket = new Socket(rig.server.localAddress().getAddress(), rig.server.localAddress().getPort())) {
            socket.setSoLinger(true, 0);
            OutputStream out = socket.getOutputStream();
            out.write(input);
            out.flush();
        } catch (IOException serverClosedFirst) {
            // the server may refuse and close while we still write: that is a valid outcome
        }
        assertThat(rig.server.internalErrors()).isZero();
        assertThat(rig.server.linkingConnections())
                .isLessThanOrEqualTo(rig.server.config().link().maxLinkingConnections());
    }
}
