package org.spicestream.device.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

    @Test
    void doublesUpToTheMaximumAndResets() {
        ReconnectBackoff b = new ReconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(700));

        assertThat(b.next()).isEqualTo(Duration.ofMillis(100));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(200));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(400));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(700));
        assertThat(b.next()).isEqualTo(Duration.ofMillis(700));

        b.reset();
        assertThat(b.next()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new ReconnectBackoff(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
