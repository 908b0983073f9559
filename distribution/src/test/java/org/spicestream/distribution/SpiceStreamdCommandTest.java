package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.protocol.StreamLimits;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.ConnectionConfig;
import org.spicestream.reds.SessionConfig;
import org.spicestream.reds.WebConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.reds.MmTimeConfig;
import org.spicestream.reds.agent.AgentConfig;
import org.spicestream.distribution.config.VmAgent;
import org.spicestream.streamchannel.StreamChannelConfig;

class SpiceStreamdCommandTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private SpiceStreamdCommand.Outcome parse(String... args) {
        return SpiceStreamdCommand.parse(CLOCK, new PrintWriter(out), new PrintWriter(err), args);
    }

    private Settings ok(String... args) {
        SpiceStreamdCommand.Outcome o = parse(args);
        assertThat(o.run()).as("stderr: %s", err).isTrue();
        return o.settings();
    }

    private String refused(String... args) {
        SpiceStreamdCommand.Outcome o = parse(args);
        assertThat(o.run()).isFalse();
        assertThat(o.exitCode()).isEqualTo(SpiceStreamdCommand.EXIT_USAGE);
        return err.toString();
    }

    private Path passwordFile(String content) throws IOException {
        Path p = dir.resolve("password");
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void noArgumentsRunTheDemoOnLoopbackWithoutTicketingAndSayWhy() {
        Settings s = ok();
        assertThat(s.demo()).isTrue();
        assertThat(s.defaultVm().devices()).isEmpty();
        assertThat(s.listen()).isEqualTo(new HostPort("127.0.0.1", 5900));
        assertThat(s.defaultVm().auth()).isEqualTo(AuthConfig.TICKETING_DISABLED);
        assertThat(s.defaultVm().auth()).isNotInstanceOf(AuthConfig.Password.class);
        assertThat(s.demoWarning()).contains("loopback");
        assertThat(s.metrics()).isEmpty();
        assertThat(s.defaultVm().sessionPolicy()).isEqualTo(SessionPolicy.REPLACE);
        assertThat(s.logLevel()).isEqualTo(Settings.LogLevel.INFO);
    }

    @Test
    void defaultsAreTheLibraryDefaults() {
        Settings s = ok();
        assertThat(s.defaultVm().limits().sendQueueBytes()).isEqualTo(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_BYTES);
        assertThat(s.defaultVm().limits().sendQueueMessages()).isEqualTo(ConnectionConfig.DEFAULT_SEND_QUEUE_MAX_MESSAGES);
        assertThat(s.defaultVm().limits().maxClientsPerChannel()).isEqualTo(SessionConfig.DEFAULT_MAX_CLIENTS_PER_CHANNEL);
        assertThat(s.defaultVm().limits().maxSessions()).isEqualTo(SessionConfig.DEFAULT_MAX_SESSIONS);
        assertThat(s.defaultVm().limits().keyFrameWait()).isEqualTo(StreamChannelConfig.DEFAULT_KEY_FRAME_WAIT_LIMIT);
        assertThat(s.defaultVm().limits().latency()).isEqualTo(MmTimeConfig.DEFAULT_LATENCY);
        assertThat(s.defaultVm().limits().maxVideoAge()).isEqualTo(StreamChannelConfig.DEFAULT_MAX_VIDEO_AGE);
        assertThat(s.defaultVm().limits().maxFrameBytes()).isEqualTo(StreamLimits.DATA_MAX_BYTES);
        assertThat(s.defaultVm().agent()).isEqualTo(VmAgent.NONE);
        assertThat(s.defaultVm().agent().maxMessageBytes()).isEqualTo(AgentConfig.DEFAULT_MAX_MESSAGE_BYTES);
    }

    @Test
    void agentOptions() throws IOException {
        Settings s = ok("--disable-ticketing", "--agent", "virtio:/run/vm1-agent.sock?qmp=/run/vm1-qmp.sock",
                "--disable-copy-paste", "--agent-max-message", "1M");
        assertThat(s.defaultVm().agent().port()).isEqualTo(URI.create("virtio:/run/vm1-agent.sock?qmp=/run/vm1-qmp.sock"));
        assertThat(s.defaultVm().agent().copyPaste()).isFalse();
        assertThat(s.defaultVm().agent().maxMessageBytes()).isEqualTo(1L << 20);
        assertThat(s.demo()).as("an agent alone still shows the demo").isTrue();
        assertThat(refused("--disable-ticketing", "--agent", "/run/agent.sock")).contains("--agent").contains("scheme");
        assertThat(refused("--disable-ticketing", "--agent-max-message", "1k")).contains("--agent-max-message");
        assertThat(refused("--disable-ticketing", "--agent-max-message", "5G")).contains("--agent-max-message");
        Path config = dir.resolve("agent.properties");
        Files.writeString(config, "agent=unix:/run/a.sock\ndisable-copy-paste=true\n");
        Settings fromFile = ok("--config", config.toString(), "--disable-ticketing");
        assertThat(fromFile.defaultVm().agent().port()).isEqualTo(URI.create("unix:/run/a.sock"));
        assertThat(fromFile.defaultVm().agent().copyPaste()).isFalse();
    }

    @Test
    void helpListsTheOptionsAndExitsZero() {
        SpiceStreamdCommand.Outcome o = parse("--help");
        assertThat(o.run()).isFalse();
        assertThat(o.exitCode()).isZero();
        assertThat(out.toString()).contains("--listen", "--password-file", "--disable-ticketing", "--password-expiry",
                "--device", "--session-policy", "--send-queue-bytes", "--send-queue-messages", "--max-clients",
                "--max-sessions", "--key-frame-wait", "--max-frame-bytes", "--log-level", "--metrics", "--config",
                "--demo");
    }

    @Test
    void passwordOnTheCommandLineIsRefusedWithAPointerToThePasswordFile() {
        assertThat(refused("--password", "secret", "--device", "unix:/run/a.sock"))
                .contains("process list").contains("--password-file").doesNotContain("secret");
        assertThat(refused("--password=secret")).contains("--password-file");
    }

    @Test
    void aDeviceWithoutPasswordOrDisabledTicketingIsRefused() {
        assertThat(refused("--device", "unix:/run/a.sock")).contains("no password configured")
                .contains("--password-file").contains("--disable-ticketing");
    }

    @Test
    void theDemoWithoutPasswordOnANonLoopbackAddressIsRefused() {
        assertThat(refused("--listen", "0.0.0.0:5900")).contains("loopback");
        assertThat(ok("--listen", "0.0.0.0:5900", "--disable-ticketing").demoWarning()).isNull();
    }

    @Test
    void passwordFileGivesThePasswordWithoutItsLineEnd() throws IOException {
        Settings s = ok("--password-file", passwordFile("s3cr3t\r\nignored\n").toString(), "--device",
                "unix:/run/a.sock");
        assertThat(s.defaultVm().auth()).isEqualTo(AuthConfig.password("s3cr3t"));
        assertThat(s.defaultVm().auth()).isNotEqualTo(AuthConfig.TICKETING_DISABLED);
        assertThat(s.demo()).isFalse();
        assertThat(s.toString()).doesNotContain("s3cr3t");
    }

    @Test
    void passwordFileProblemsAreReported() throws IOException {
        assertThat(refused("--password-file", dir.resolve("missing").toString())).contains("does not exist");
        assertThat(refused("--password-file", passwordFile("\n").toString())).contains("empty");
        assertThat(refused("--password-file", passwordFile("x".repeat(61)).toString())).contains("60 bytes");
        assertThat(refused("--password-file", passwordFile("pw").toString(), "--disable-ticketing"))
                .contains("contradict");
    }

    @Test
    void passwordExpiryTakesAnInstantOrADurationFromStart() throws IOException {
        String pw = passwordFile("pw").toString();
        assertThat(ok("--password-file", pw, "--password-expiry", "30m").defaultVm().auth()).extracting(a -> ((AuthConfig.Password) a).expiry())
                .isEqualTo(NOW.plus(Duration.ofMinutes(30)));
        assertThat(ok("--password-file", pw, "--password-expiry", "PT2H").defaultVm().auth()).extracting(a -> ((AuthConfig.Password) a).expiry())
                .isEqualTo(NOW.plus(Duration.ofHours(2)));
        assertThat(ok("--password-file", pw, "--password-expiry", "2026-12-01T18:00:00Z").defaultVm().auth()).extracting(a -> ((AuthConfig.Password) a).expiry())
                .isEqualTo(Instant.parse("2026-12-01T18:00:00Z"));
        assertThat(refused("--password-file", pw, "--password-expiry", "soon")).contains("--password-expiry");
        assertThat(refused("--password-expiry", "30m")).contains("needs --password-file");
    }

    @Test
    void listenAndMetricsTakeHostPortIncludingIpv6() {
        Settings s = ok("--listen", "[::1]:5901", "--metrics", "127.0.0.1:9400");
        assertThat(s.listen()).isEqualTo(new HostPort("::1", 5901));
        assertThat(s.listen().isLoopback()).isTrue();
        assertThat(s.listen().toString()).isEqualTo("[::1]:5901");
        assertThat(s.metrics()).isEqualTo(Optional.of(new HostPort("127.0.0.1", 9400)));
        assertThat(refused("--listen", "5900")).contains("HOST:PORT");
        assertThat(refused("--listen", "::1:5900")).contains("HOST:PORT");
        assertThat(refused("--listen", "localhost:70000")).contains("65535");
    }

    @Test
    void devicesRepeatAndDemoCanRunBesideThem() throws IOException {
        String pw = passwordFile("pw").toString();
        Settings s = ok("--password-file", pw, "--device", "unix:/run/a.sock", "--device", "tcp://127.0.0.1:5555?listen");
        assertThat(s.defaultVm().devices()).containsExactly(URI.create("unix:/run/a.sock"),
                URI.create("tcp://127.0.0.1:5555?listen"));
        assertThat(s.demo()).isFalse();
        assertThat(ok("--password-file", pw, "--device", "unix:/run/a.sock", "--demo").demo()).isTrue();
        assertThat(refused("--password-file", pw, "--device", "/run/a.sock")).contains("no scheme");
    }

    @Test
    void latencyAndMaxVideoAgeAreMillisecondsWithinTheirRanges() {
        Settings s = ok("--latency", "25", "--max-video-age", "0");
        assertThat(s.defaultVm().limits().latency()).isEqualTo(java.time.Duration.ofMillis(25));
        assertThat(s.defaultVm().limits().maxVideoAge()).isZero();
        assertThat(refused("--latency", "401")).contains("--latency");
        assertThat(refused("--latency", "-1")).contains("--latency");
        assertThat(refused("--max-video-age", "60001")).contains("--max-video-age");
    }

    @Test
    void queueBoundsTakeSizesWithSuffixes() {
        Settings s = ok("--send-queue-bytes", "64M", "--send-queue-messages", "10", "--max-clients", "3",
                "--max-sessions", "4", "--key-frame-wait", "0", "--max-frame-bytes", "4M", "--session-policy", "SHARE",
                "--log-level", "debug");
        assertThat(s.defaultVm().limits().sendQueueBytes()).isEqualTo(64L << 20);
        assertThat(s.defaultVm().limits().sendQueueMessages()).isEqualTo(10);
        assertThat(s.defaultVm().limits().maxClientsPerChannel()).isEqualTo(3);
        assertThat(s.defaultVm().limits().maxSessions()).isEqualTo(4);
        assertThat(s.defaultVm().limits().keyFrameWait()).isZero();
        assertThat(s.defaultVm().limits().maxFrameBytes()).isEqualTo(4 << 20);
        assertThat(s.defaultVm().sessionPolicy()).isEqualTo(SessionPolicy.SHARE);
        assertThat(s.logLevel()).isEqualTo(Settings.LogLevel.DEBUG);
        assertThat(refused("--max-frame-bytes", "33M")).contains("--max-frame-bytes");
        assertThat(refused("--send-queue-messages", "0")).contains("> 0");
        assertThat(refused("--session-policy", "steal")).contains("replace or share");
        assertThat(refused("--log-level", "loud")).contains("--log-level");
    }

    @Test
    void configFileGivesDefaultsAndTheCommandLineWins() throws IOException {
        Path pw = passwordFile("pw");
        Path config = dir.resolve("spice-streamd.properties");
        Files.writeString(config, String.join("\n",
                "# comment",
                "listen=127.0.0.1:6000",
                "password-file=" + pw,
                "device=unix:/run/a.sock,tcp://127.0.0.1:5555",
                "session-policy=share",
                "send-queue-messages=77",
                "metrics=127.0.0.1:9400",
                "log-level=warn",
                ""));
        Settings fromFile = ok("--config", config.toString());
        assertThat(fromFile.listen()).isEqualTo(new HostPort("127.0.0.1", 6000));
        assertThat(fromFile.defaultVm().auth()).isEqualTo(AuthConfig.password("pw"));
        assertThat(fromFile.defaultVm().devices()).containsExactly(URI.create("unix:/run/a.sock"),
                URI.create("tcp://127.0.0.1:5555"));
        assertThat(fromFile.defaultVm().sessionPolicy()).isEqualTo(SessionPolicy.SHARE);
        assertThat(fromFile.defaultVm().limits().sendQueueMessages()).isEqualTo(77);
        assertThat(fromFile.logLevel()).isEqualTo(Settings.LogLevel.WARN);

        Settings overridden = ok("--config", config.toString(), "--listen", "127.0.0.1:7000", "--device",
                "unix:/run/b.sock", "--session-policy", "replace", "--log-level", "info");
        assertThat(overridden.listen()).isEqualTo(new HostPort("127.0.0.1", 7000));
        assertThat(overridden.defaultVm().devices()).containsExactly(URI.create("unix:/run/b.sock"));
        assertThat(overridden.defaultVm().sessionPolicy()).isEqualTo(SessionPolicy.REPLACE);
        assertThat(overridden.logLevel()).isEqualTo(Settings.LogLevel.INFO);
        assertThat(overridden.defaultVm().limits().sendQueueMessages()).isEqualTo(77); // not on the command line: from the file
        assertThat(overridden.defaultVm().auth()).isEqualTo(AuthConfig.password("pw"));
    }

    @Test
    void configFileBooleansAndDemo() throws IOException {
        Path config = dir.resolve("c.properties");
        Files.writeString(config, "disable-ticketing=true\nlisten=0.0.0.0:5900\n");
        Settings s = ok("--config", config.toString());
        assertThat(s.defaultVm().auth()).isEqualTo(AuthConfig.TICKETING_DISABLED);
        assertThat(s.demoWarning()).isNull();
        assertThat(s.demo()).isTrue();
    }

    @Test
    void configFileTyposAndPasswordsAreRefused() throws IOException {
        Path typo = dir.resolve("typo.properties");
        Files.writeString(typo, "pasword-file=/etc/pw\n");
        assertThat(refused("--config", typo.toString())).contains("unknown key 'pasword-file'");

        err.getBuffer().setLength(0);
        Path secret = dir.resolve("secret.properties");
        Files.writeString(secret, "password=hunter2\n");
        assertThat(refused("--config", secret.toString())).contains("password-file").doesNotContain("hunter2");

        err.getBuffer().setLength(0);
        assertThat(refused("--config", dir.resolve("none.properties").toString())).contains("does not exist");
    }

    @Test
    void browserAndTlsOptions() throws IOException {
        Settings.Web none = ok().web();
        assertThat(none.webRoot()).isNull();
        assertThat(none.tlsPort()).isZero();
        assertThat(none.secureChannels()).isEmpty();
        assertThat(none.wsMaxFrameBytes()).isEqualTo(WebConfig.DEFAULT_MAX_WEBSOCKET_FRAME_SIZE);
        assertThat(none.httpTimeout()).isEqualTo(WebConfig.DEFAULT_REQUEST_TIMEOUT);
        Path cert = Files.writeString(dir.resolve("c.pem"), "x");
        Path key = Files.writeString(dir.resolve("k.pem"), "x");
        Settings.Web w = ok("--web-root", dir.toString(), "--tls-port", "5901", "--tls-cert", cert.toString(),
                "--tls-key", key.toString(), "--secure-channels", "main,display", "--ws-max-frame-bytes", "16k",
                "--http-timeout", "2000", "--ws-allowed-origins", "http://a:5900,https://b").web();
        assertThat(w.webRoot()).isEqualTo(dir);
        assertThat(w.tlsPort()).isEqualTo(5901);
        assertThat(w.secureChannels()).containsExactlyInAnyOrder(1, 2);
        assertThat(w.wsMaxFrameBytes()).isEqualTo(16 * 1024);
        assertThat(w.httpTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(w.wsAllowedOrigins()).containsExactly("http://a:5900", "https://b");
        assertThat(refused("--tls-port", "5901")).contains("--tls-cert");
        err.getBuffer().setLength(0);
        assertThat(refused("--secure-channels", "all")).contains("--tls-port");
        err.getBuffer().setLength(0);
        assertThat(refused("--web-root", dir.resolve("nope").toString())).contains("not a directory");
        err.getBuffer().setLength(0);
        assertThat(refused("--tls-port", "5901", "--tls-cert", cert.toString(), "--tls-key", key.toString(),
                "--secure-channels", "bogus")).contains("unknown channel type");
    }
}
