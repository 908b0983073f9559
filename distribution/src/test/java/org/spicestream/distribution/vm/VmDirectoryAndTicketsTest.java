package org.spicestream.distribution.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.inject.Guice;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.distribution.SpiceStreamd;
import org.spicestream.distribution.SpiceStreamdCommand;
import org.spicestream.distribution.control.TicketCommand;
import org.spicestream.distribution.guice.SpiceStreamdModule;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.SpiceLinkError;
import org.spicestream.reds.testclient.SpiceTestClient;

/** {@code --vm-dir} files applied at start and at run time, broken ones skipped; signed route tickets. */
class VmDirectoryAndTicketsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private SpiceStreamd app;

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    private void start(String... args) {
        StringWriter out = new StringWriter();
        var outcome = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out), args);
        assertThat(outcome.run()).as(out.toString()).isTrue();
        app = Guice.createInjector(new SpiceStreamdModule(outcome.settings())).getInstance(SpiceStreamd.class);
        app.start();
    }

    private String device(String name) {
        return "unix:" + dir.resolve(name + ".sock") + "?listen";
    }

    @Test
    void filesAddChangeAndRemoveVmsAtRunTimeAndABrokenFileIsSkipped() throws IOException {
        Path vms = Files.createDirectory(dir.resolve("vms"));
        Files.writeString(vms.resolve("a.properties"), "devices=" + device("a") + "\ndisableTicketing=true\n");
        Files.writeString(vms.resolve("broken.properties"), "devices=" + device("b") + "\ncolour=blue\n");
        Files.writeString(vms.resolve("notes.txt"), "not a VM\n");
        start("--listen", "127.0.0.1:0", "--vm-dir", vms.toString());
        assertThat(app.vms().list()).extracting(Vm::name).containsExactly("a");

        // created at run time
        Files.writeString(vms.resolve("c.properties"), "devices=" + device("c0") + "," + device("c1")
                + "\npassword=c-pw\nsessionPolicy=share\nmaxClients=3\n");
        await().atMost(TIMEOUT).until(() -> app.vms().get("c").isPresent());
        Vm c = app.vms().get("c").orElseThrow();
        assertThat(c.devices()).hasSize(2);
        assertThat(c.config().auth()).isEqualTo(AuthConfig.password("c-pw"));
        assertThat(c.config().sessionPolicy()).isEqualTo(SessionPolicy.SHARE);
        assertThat(c.config().limits().maxClientsPerChannel()).isEqualTo(3);

        // changed: the VM is replaced; broken: the previous VM stays
        Files.writeString(vms.resolve("a.properties"), "devices=" + device("a2") + "\ndisableTicketing=true\n");
        await().atMost(TIMEOUT).until(() -> app.vms().get("a").orElseThrow().config().devices().get(0).toString()
                .contains("a2.sock"));
        Vm a = app.vms().get("a").orElseThrow();
        Files.writeString(vms.resolve("a.properties"), "devices=" + device("a3") + "\n");
        Files.writeString(vms.resolve("d.properties"), "devices=" + device("d") + "\ndisableTicketing=true\n");
        await().atMost(TIMEOUT).until(() -> app.vms().get("d").isPresent());
        assertThat(app.vms().get("a").orElseThrow()).isSameAs(a);
        assertThat(a.isClosed()).isFalse();

        // removed
        Files.delete(vms.resolve("c.properties"));
        await().atMost(TIMEOUT).until(() -> app.vms().get("c").isEmpty());
        assertThat(c.isClosed()).isTrue();
        assertThat(app.vms().list()).extracting(Vm::name).containsExactly("a", "d");
    }

    @Test
    void ticketsAreSignedExpireAndRouteWithoutThePassword() throws Exception {
        Path secret = dir.resolve("route.secret");
        Files.writeString(secret, "a-route-secret-of-enough-length\n");
        RouteTickets tickets = RouteTickets.fromFile(secret);
        Instant now = Instant.parse("2026-12-04T12:00:00Z");
        String t = tickets.make("vm1", now.plusSeconds(300));
        assertThat(t).matches("vm1\\.\\d+\\.[0-9a-f]{32}");
        assertThat(tickets.verify(t, now)).contains("vm1");
        assertThat(tickets.verify(t, now.plusSeconds(301))).as("expired").isEmpty();
        assertThat(tickets.verify(t.replace("vm1.", "vm2."), now)).as("other name").isEmpty();
        assertThat(new RouteTickets("another-secret-16b".getBytes(StandardCharsets.UTF_8)).verify(t, now)).isEmpty();
        assertThatThrownBy(() -> new RouteTickets(new byte[8])).hasMessageContaining("16 bytes");

        // the command prints a ticket the server accepts
        StringWriter out = new StringWriter();
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        assertThat(TicketCommand.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "--route-secret-file",
                secret.toString(), "--vm", "vm1", "--ttl", "5m")).isZero();
        String printed = out.toString().strip();
        assertThat(tickets.verify(printed, Instant.now())).contains("vm1");

        Path vms = Files.createDirectory(dir.resolve("vms"));
        Files.writeString(vms.resolve("vm1.properties"), "devices=" + device("vm1") + "\npassword=never-shared\n");
        start("--listen", "127.0.0.1:0", "--vm-dir", vms.toString(), "--route-secret-file", secret.toString());
        try (SpiceTestClient viaTicket = SpiceTestClient.connect(app.spiceAddress(),
                SpiceTestClient.options().httpConnect(printed + ":5900").password("wrong"));
                SpiceTestClient viaWs = SpiceTestClient.connect(app.spiceAddress(),
                        SpiceTestClient.options().webSocket("/vms/" + printed))) {
            assertThat(viaTicket.linkResult()).isZero();
            assertThat(viaWs.linkResult()).isZero();
        }
        try (SpiceTestClient byName = SpiceTestClient.connect(app.spiceAddress(),
                SpiceTestClient.options().httpConnect("vm1:5900").password("wrong"))) {
            assertThat(byName.linkResult()).isEqualTo(SpiceLinkError.PERMISSION_DENIED);
        }
        String expired = tickets.make("vm1", Instant.now().minusSeconds(1));
        assertThatThrownBy(() -> SpiceTestClient.connect(app.spiceAddress(),
                SpiceTestClient.options().httpConnect(expired + ":5900"))).hasMessageContaining("404");
    }
}
