package org.spicestream.transport.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.spicestream.device.spi.GuestTransport;
import org.spicestream.device.spi.TransportContext;
import org.spicestream.device.spi.TransportProvider;
import org.spicestream.device.spi.Transports;

/** The discovery rules of {@link Transports}, with the real service registrations of this module. */
class TransportsDiscoveryTest {

    /** A second provider for {@code tcp}, as another plugin jar could bring. */
    static final class OtherTcpProvider implements TransportProvider {
        @Override
        public String scheme() {
            return "tcp";
        }

        @Override
        public Optional<String> unavailableReason() {
            return Optional.empty();
        }

        @Override
        public GuestTransport create(URI uri, TransportContext ctx) {
            throw new UnsupportedOperationException();
        }
    }

    /** A provider that cannot work here. */
    static final class UnavailableProvider implements TransportProvider {
        @Override
        public String scheme() {
            return "vsock";
        }

        @Override
        public Optional<String> unavailableReason() {
            return Optional.of("no vsock device");
        }

        @Override
        public GuestTransport create(URI uri, TransportContext ctx) {
            throw new IllegalStateException("unavailable");
        }
    }

    @Test
    void serviceLoaderFindsTcpAndUnix() {
        Transports transports = Transports.load();

        assertThat(transports.schemes()).contains("tcp", "unix");
        assertThat(transports.forUri(URI.create("tcp://127.0.0.1:1"))).isInstanceOf(TcpTransportProvider.class);
        assertThat(transports.forUri(URI.create("UNIX:/tmp/x.sock"))).isInstanceOf(UnixTransportProvider.class);
    }

    @Test
    void unknownSchemeListsTheAvailableSchemes() {
        Transports transports = Transports.load();

        assertThatThrownBy(() -> transports.forUri(URI.create("serial:/dev/ttyS0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown transport scheme 'serial'")
                .hasMessageContaining("available schemes: tcp, unix");
        assertThatThrownBy(() -> transports.forUri(URI.create("/no/scheme")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no scheme")
                .hasMessageContaining("tcp, unix");
    }

    @Test
    void twoDiscoveredProvidersForOneSchemeAreAnErrorThatSaysHowToChoose() {
        Transports transports = Transports.of(List.of(), List.of(new TcpTransportProvider(), new OtherTcpProvider()));

        assertThatThrownBy(() -> transports.forUri(URI.create("tcp://127.0.0.1:1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(TcpTransportProvider.class.getName())
                .hasMessageContaining(OtherTcpProvider.class.getName())
                .hasMessageContaining("configuring it explicitly");
        // Other schemes still work.
        assertThat(Transports.of(List.of(), List.of(new TcpTransportProvider(), new OtherTcpProvider(),
                        new UnixTransportProvider()))
                .forUri(URI.create("unix:/a.sock"))).isInstanceOf(UnixTransportProvider.class);
    }

    @Test
    void anExplicitProviderWinsOverDiscoveredOnes() {
        OtherTcpProvider explicit = new OtherTcpProvider();
        Transports transports = Transports.of(List.of(explicit),
                List.of(new TcpTransportProvider(), new UnixTransportProvider()));

        assertThat(transports.forUri(URI.create("tcp://127.0.0.1:1"))).isSameAs(explicit);
        assertThat(transports.providers().get(0)).isSameAs(explicit);

        TcpTransportProvider configured = new TcpTransportProvider();
        assertThat(Transports.load(List.of(configured), getClass().getClassLoader())
                .forUri(URI.create("tcp://127.0.0.1:1"))).isSameAs(configured);
    }

    @Test
    void twoExplicitProvidersForOneSchemeAreRejected() {
        assertThatThrownBy(() -> Transports.of(List.of(new TcpTransportProvider(), new OtherTcpProvider()),
                        List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("configure only one");
    }

    @Test
    void discoveredProvidersAreOrderedByClassName() {
        List<TransportProvider> forward = Transports.of(List.of(),
                List.of(new UnixTransportProvider(), new TcpTransportProvider())).providers();
        List<TransportProvider> backward = Transports.of(List.of(),
                List.of(new TcpTransportProvider(), new UnixTransportProvider())).providers();

        assertThat(forward).extracting(p -> p.getClass().getName())
                .containsExactly(TcpTransportProvider.class.getName(), UnixTransportProvider.class.getName());
        assertThat(backward).extracting(p -> p.getClass().getName())
                .containsExactlyElementsOf(forward.stream().map(p -> p.getClass().getName()).toList());
    }

    @Test
    void anUnavailableProviderIsReportedWithItsReason() {
        Transports transports = Transports.of(List.of(), List.of(new UnavailableProvider(), new TcpTransportProvider()));

        assertThatThrownBy(() -> transports.forUri(URI.create("vsock://2:5000")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not available on this platform: no vsock device");
        assertThatThrownBy(() -> transports.forUri(URI.create("foo:/x")))
                .hasMessageContaining("tcp, vsock (unavailable)");
    }
}
