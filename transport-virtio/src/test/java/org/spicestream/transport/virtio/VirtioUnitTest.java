package org.spicestream.transport.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.spicestream.device.spi.Transports;
import org.spicestream.transport.virtio.internal.Json;
import org.spicestream.transport.virtio.internal.VirtioEndpoint;

/** URI parsing, discovery through the service loader, key numbers, axis scaling and the bounded JSON reader. */
class VirtioUnitTest {

    @Test
    void parsesUris() {
        assertThat(VirtioEndpoint.parse(URI.create("virtio:/run/vm/st0.sock")))
                .isEqualTo(new VirtioEndpoint(Path.of("/run/vm/st0.sock"), null, null));
        assertThat(VirtioEndpoint.parse(URI.create("virtio:/run/vm/st0.sock?qmp=/run/vm/qmp.sock&port=stream0")))
                .isEqualTo(new VirtioEndpoint(Path.of("/run/vm/st0.sock"), Path.of("/run/vm/qmp.sock"), "stream0"));
        assertThat(VirtioEndpoint.parse(URI.create("virtio:/a.sock?qmp=%2Frun%2Fq.sock")).qmp())
                .isEqualTo(Path.of("/run/q.sock"));
    }

    @Test
    void rejectsBadUris() {
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio:relative.sock")))
                .hasMessageContaining("absolute path");
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio://host/x.sock")))
                .hasMessageContaining("host is not allowed");
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio:/x.sock?listen")))
                .hasMessageContaining("unknown parameter 'listen'");
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio:/x.sock?port=stream0")))
                .hasMessageContaining("port only makes sense with qmp");
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio:/x.sock?qmp=/q.sock&port=1bad")))
                .hasMessageContaining("QEMU device id");
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio:/x.sock?qmp=q.sock")))
                .hasMessageContaining("absolute");
        assertThatThrownBy(() -> VirtioEndpoint.parse(URI.create("virtio:/" + "p".repeat(120))))
                .hasMessageContaining("at most " + VirtioEndpoint.MAX_UNIX_PATH_BYTES);
    }

    @Test
    void theServiceLoaderFindsTheProvider() {
        Transports transports = Transports.load();
        assertThat(transports.schemes()).contains("virtio");
        assertThat(transports.forUri(URI.create("virtio:/x.sock"))).isInstanceOf(VirtioTransportProvider.class);
        assertThat(new VirtioTransportProvider().unavailableReason()).isEmpty();
    }

    @Test
    void keyNumbers() {
        assertThat(QmpInputSink.qemuKeyNumber(0x1E)).isEqualTo(30);
        assertThat(QmpInputSink.qemuKeyNumber(0xE01D)).isEqualTo(0x9D);
        assertThat(QmpInputSink.qemuKeyNumber(0xE038)).isEqualTo(0xB8);
        assertThat(QmpInputSink.qemuKeyNumber(0)).isEqualTo(-1);
        assertThat(QmpInputSink.qemuKeyNumber(0x9E)).isEqualTo(-1);
        assertThat(QmpInputSink.qemuKeyNumber(0xE11D45)).isEqualTo(-1);
    }

    @Test
    void absoluteScaling() {
        assertThat(QmpInputSink.scale(0, 800)).isZero();
        assertThat(QmpInputSink.scale(799, 800)).isEqualTo(QmpInputSink.ABS_MAX);
        assertThat(QmpInputSink.scale(5000, 800)).isEqualTo(QmpInputSink.ABS_MAX);
        assertThat(QmpInputSink.scale(-4, 800)).isZero();
    }

    @Test
    void jsonRoundTripAndBounds() {
        Object v = Json.parse(" {\"a\": [1, -2.5, \"x\\u0041\\n\", true, null, {}], \"b\": 9223372036854775807} ");
        assertThat(v).isEqualTo(Map.of("a", java.util.Arrays.asList(1, -2.5, "xA\n", true, null, Map.of()),
                "b", Long.MAX_VALUE));
        assertThat(Json.write(Map.of("k", List.of(1, "q\"")))).isEqualTo("{\"k\":[1,\"q\\\"\"]}");
        assertThatThrownBy(() -> Json.parse("[".repeat(Json.MAX_DEPTH + 1))).hasMessageContaining("nesting depth");
        assertThatThrownBy(() -> Json.parse("{\"a\":1,\"a\":2}")).hasMessageContaining("Duplicate field");
        assertThatThrownBy(() -> Json.parse("{\"a\":1} {}")).hasMessageContaining("trailing");
        assertThatThrownBy(() -> Json.parse("{\"a\":")).isInstanceOf(IllegalArgumentException.class);
    }
}
