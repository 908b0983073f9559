package org.spicestream.distribution.vm;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.Guice;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spicestream.distribution.SpiceStreamd;
import org.spicestream.distribution.SpiceStreamdCommand;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.guice.SpiceStreamdModule;
import org.spicestream.reds.AuthConfig;
import org.spicestream.reds.SessionPolicy;
import org.spicestream.testsupport.ExternalTools;

/**
 * The libvirt qemu hook of the tarball ({@code share/libvirt/qemu-hook}) run as libvirt runs it: domain name,
 * operation and sub-operation as arguments, the domain XML (as libvirt hands a running domain's XML, with
 * {@code <channel>}s and a {@code <qemu:commandline>} QMP socket) on standard input, against a real spice-streamd's
 * control API.
 */
class QemuHookTest {

    private static final Path HOOK = Path.of("src/main/dist/share/libvirt/qemu-hook");

    @TempDir
    Path dir;

    private SpiceStreamd app;
    private Path python;
    private Path token;

    @BeforeEach
    void start() throws IOException {
        python = ExternalTools.require("python3", "python3");
        token = dir.resolve("token");
        Files.writeString(token, "hook-test-token-0123456789\n");
        StringWriter out = new StringWriter();
        var outcome = SpiceStreamdCommand.parse(new PrintWriter(out), new PrintWriter(out), "--listen", "127.0.0.1:0",
                "--control", "unix:" + dir.resolve("c.sock"), "--control-token-file", token.toString());
        assertThat(outcome.run()).as(out.toString()).isTrue();
        app = Guice.createInjector(new SpiceStreamdModule(outcome.settings())).getInstance(SpiceStreamd.class);
        app.start();
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    private record Run(int exit, String err) {}

    private Run hook(String domainXml, Map<String, String> env, String... args) throws Exception {
        String xml = Files.readString(Path.of("src/test/resources/libvirt/" + domainXml))
                .replace("@DIR@", dir.toString());
        ProcessBuilder pb = new ProcessBuilder(python.toString(), HOOK.toString());
        pb.command().addAll(List.of(args));
        pb.environment().put("SPICE_STREAMD_HOOK_CONF", dir.resolve("absent.conf").toString());
        pb.environment().put("SPICE_STREAMD_CONTROL", "unix:" + dir.resolve("c.sock"));
        pb.environment().put("SPICE_STREAMD_TOKEN_FILE", token.toString());
        pb.environment().putAll(env);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        p.getOutputStream().write(xml.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String err;
        try (InputStream e = p.getErrorStream()) {
            err = new String(e.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), err);
    }

    @Test
    void startedAddsTheDomainsStreamChannelsWithItsQmpSocketAndStoppedRemovesIt() throws Exception {
        Path passwords = Files.createDirectory(dir.resolve("passwords"));
        Files.writeString(passwords.resolve("win11-gpu-07"), "domain-pw\n");
        Map<String, String> env = Map.of("SPICE_STREAMD_PASSWORD_DIR", passwords.toString());

        Run started = hook("streaming-domain.xml", env, "Win11-GPU_07", "started", "begin", "-");
        assertThat(started.exit()).isZero();
        assertThat(started.err()).isEmpty();
        VmConfig vm = app.vms().get("win11-gpu-07").orElseThrow().config();
        // stream.0 first (display 0) with the QMP socket of -chardev/-mon, stream.1 without
        assertThat(vm.devices()).extracting(Object::toString).containsExactly(
                "virtio:" + dir.resolve("win11-stream0.sock") + "?qmp=" + dir.resolve("win11-qmp.sock"),
                "virtio:" + dir.resolve("win11-stream1.sock"));
        assertThat(vm.auth()).isEqualTo(AuthConfig.password("domain-pw"));
        assertThat(vm.agent().port()).as("the com.redhat.spice.0 channel is the VM's agent port")
                .hasToString("virtio:" + dir.resolve("win11-agent.sock"));

        // libvirtd restarting finds the domain running: the same VM again (replaced, not doubled)
        assertThat(hook("streaming-domain.xml", env, "Win11-GPU_07", "reconnect", "begin", "-").exit()).isZero();
        assertThat(app.vms().size()).isEqualTo(1);
        // other operations change nothing
        assertThat(hook("streaming-domain.xml", env, "Win11-GPU_07", "prepare", "begin", "-").exit()).isZero();
        assertThat(app.vms().size()).isEqualTo(1);

        Run stopped = hook("streaming-domain.xml", env, "Win11-GPU_07", "stopped", "end", "-");
        assertThat(stopped.exit()).isZero();
        assertThat(stopped.err()).isEmpty();
        assertThat(app.vms().get("win11-gpu-07")).isEmpty();
    }

    @Test
    void metadataNamesTheVmAndDashQmpIsFound() throws Exception {
        Run r = hook("qmp-domain.xml", Map.of("SPICE_STREAMD_NO_PASSWORD", "allow"), "desk-3", "started", "begin", "-");
        assertThat(r.exit()).isZero();
        VmConfig vm = app.vms().get("desk-three").orElseThrow().config();
        assertThat(vm.devices()).extracting(Object::toString).containsExactly(
                "virtio:" + dir.resolve("desk3.sock") + "?qmp=" + dir.resolve("desk3-qmp.sock"));
        assertThat(vm.auth()).isEqualTo(AuthConfig.TICKETING_DISABLED);
        assertThat(vm.sessionPolicy()).isEqualTo(SessionPolicy.SHARE);
    }

    @Test
    void domainsWithoutAStreamChannelOrPasswordAreLeftAloneAndTheDomainNeverFails() throws Exception {
        assertThat(hook("plain-domain.xml", Map.of(), "build-runner", "started", "begin", "-").exit()).isZero();
        Run noPassword = hook("qmp-domain.xml", Map.of(), "desk-3", "started", "begin", "-");
        assertThat(noPassword.exit()).isZero();
        assertThat(noPassword.err()).contains("no password file for VM desk-three");
        Run unreachable = hook("qmp-domain.xml", Map.of("SPICE_STREAMD_NO_PASSWORD", "allow",
                "SPICE_STREAMD_CONTROL", "unix:" + dir.resolve("nothing.sock")), "desk-3", "started", "begin", "-");
        assertThat(unreachable.exit()).isZero();
        assertThat(unreachable.err()).contains("control API not reachable");
        assertThat(app.vms().size()).isZero();
    }
}
