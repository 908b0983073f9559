package org.spicestream.transport.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.spicestream.transport.socket.internal.Backoff;

class BackoffTest {

    @Test
    void doublesUpToTheMaximumAndResets() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(700));

        assertThat(b.next()).isEqualTo(Duration.ofMillis(100));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(200));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(400));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(700));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(700));

        b.reset();
        assertThat(b.next()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void defaultsAreBounded() {
        assertThat(SocketTransportProvider.DEFAULT_INITIAL_RECONNECT_DELAY).isPositive();
        assertThat(SocketTransportProvider.DEFAULT_MAX_RECONNECT_DELAY)
                .isGreaterThanOrEqualTo(SocketTransportProvider.DEFAULT_INITIAL_RECONNECT_DELAY);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TcpTransportProvider(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
