package org.spicestream.transport.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The socket providers' reconnect delays (the back-off itself is tested in stream-device). */
class ReconnectDelaysTest {

    @Test
    void defaultsAreBounded() {
        assertThat(SocketTransportProvider.DEFAULT_INITIAL_RECONNECT_DELAY).isPositive();
        assertThat(SocketTransportProvider.DEFAULT_MAX_RECONNECT_DELAY)
                .isGreaterThanOrEqualTo(SocketTransportProvider.DEFAULT_INITIAL_RECONNECT_DELAY);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new TcpTransportProvider(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
