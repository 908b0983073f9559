package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HostPortTest {

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1:5900, 127.0.0.1, 5900",
        "localhost:0, localhost, 0",
        "[::1]:5900, ::1, 5900",
        "[fe80::1%lo]:1, fe80::1%lo, 1",
        "example.org:65535, example.org, 65535",
    })
    void parses(String text, String host, int port) {
        HostPort hp = HostPort.parse(text);
        assertThat(hp.host()).isEqualTo(host);
        assertThat(hp.port()).isEqualTo(port);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5900", ":5900", "host:", "::1:5900", "[::1]5900", "[::1]:", "h:p", "h:-1", "h:65536"})
    void refuses(String text) {
        assertThatThrownBy(() -> HostPort.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1:1, true", "[::1]:1, true", "localhost:1, true", "0.0.0.0:1, false"})
    void loopback(String text, boolean loopback) {
        assertThat(HostPort.parse(text).isLoopback()).isEqualTo(loopback);
    }
}
