package org.spicestream.distribution.metrics;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.concurrent.Future;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.device.AgentDevice;
import org.spicestream.device.StreamDevice;
import io.micrometer.core.instrument.Meter;
import org.spicestream.device.spi.GuestInputSink;
import org.spicestream.distribution.vm.Vm;
import org.spicestream.protocol.Format;
import org.spicestream.protocol.VideoCodec;
import org.spicestream.reds.AgentRouter;
import org.spicestream.reds.SpiceServer;
import org.spicestream.streamchannel.StreamChannel;
import org.spicestream.streamchannel.StreamChannel.ClientStats;
import org.spicestream.streamchannel.StreamReport;

/**
 * The meters of spice-streamd. Device counters are read directly (they are thread-safe); per-device stream state
 * and per-client values are confined to the device's executor, so each scrape first takes a snapshot there.
 *
 * <p>Every meter of a VM carries its name as tag {@code vm}; a VM's meters go when it is removed. Per VM: {@code
 * spicestream_sessions}, {@code spicestream_linking_connections}, input counters ({@code device} tag). Per device
 * ({@code vm}, {@code device}, {@code uri} tags): {@code spicestream_device_frames_in_total},
 * {@code _frame_bytes_in_total}, {@code _bytes_in_total}, {@code _protocol_errors_total}, {@code _resets_total},
 * {@code _errors_total}, {@code _frames_dropped_total}, and gauges {@code _stream_width}, {@code _stream_height},
 * {@code _stream_codec} (SpiceVideoCodecType, 0 = none), {@code _clients}. Per client ({@code vm}, {@code device},
 * {@code client} tags), gauges {@code spicestream_client_frames_sent}, {@code _frames_dropped},
 * {@code _queued_bytes}, {@code _ping_rtt_seconds} and the last STREAM_REPORT: {@code _report_frames},
 * {@code _report_drops}, {@code _report_last_frame_delay_ms}, {@code _report_audio_delay_ms}.
 */
@Singleton
public final class StreamdMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(StreamdMetrics.class);

    /** Longest wait for one device's snapshot during a scrape. */
    public static final Duration SNAPSHOT_TIMEOUT = Duration.ofSeconds(1);

    private final PrometheusMeterRegistry registry;
    private final List<StreamDevice> devices = new CopyOnWriteArrayList<>();
    private final Map<StreamDevice, Tags> deviceTags = new ConcurrentHashMap<>();
    private final Map<StreamDevice, DeviceSnapshot> snapshots = new ConcurrentHashMap<>();
    private final List<ClientGauge> clientGauges = new ArrayList<>();
    private volatile java.util.function.IntSupplier vmCount = () -> 0;
    private volatile java.util.function.IntSupplier unroutedCount = () -> 0;

    /** What a scrape reads of one device, taken on its executor. */
    public record DeviceSnapshot(Format format, VideoCodec codec, int clients, long framesDropped, List<ClientStats> stats) {
        public static final DeviceSnapshot EMPTY = new DeviceSnapshot(null, null, 0, 0, List.of());
    }

    private record ClientGauge(MultiGauge gauge, ToDoubleFunction<ClientStats> value) {}

    @Inject
    public StreamdMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        client("spicestream.client.frames.sent", "frames queued to the client", ClientStats::framesSent);
        client("spicestream.client.frames.dropped", "frames skipped because the client's queue was full",
                ClientStats::framesDropped);
        client("spicestream.client.queued.bytes", "bytes waiting in the client's send queue", ClientStats::queuedBytes);
        client("spicestream.client.ping.rtt.seconds", "last ping round trip",
                s -> s.roundTripNanos() < 0 ? Double.NaN : s.roundTripNanos() / 1e9);
        client("spicestream.client.report.frames", "frames in the client's last stream report",
                s -> report(s, StreamReport::numFrames));
        client("spicestream.client.report.drops", "drops in the client's last stream report",
                s -> report(s, StreamReport::numDrops));
        client("spicestream.client.report.last.frame.delay.ms", "last frame delay in the client's last stream report",
                s -> report(s, r -> r.lastFrameDelay()));
        client("spicestream.client.report.audio.delay.ms", "audio delay in the client's last stream report",
                s -> report(s, StreamReport::audioDelay));
        client("spicestream.client.mm.time.latency.ms", "how far the client's multimedia clock runs behind the frames",
                ClientStats::mmTimeLatencyMs);
    }

    private void client(String name, String description, ToDoubleFunction<ClientStats> value) {
        clientGauges.add(new ClientGauge(MultiGauge.builder(name).description(description).register(registry), value));
    }

    private static double report(ClientStats s, ToDoubleFunction<StreamReport> f) {
        return s.lastReport() == null ? Double.NaN : f.applyAsDouble(s.lastReport());
    }

    /** Process-wide meters: VMs served, connections at the front door not routed yet. */
    public void bindProcess(java.util.function.IntSupplier vms, java.util.function.IntSupplier unrouted) {
        // gauges hold their object weakly: keep the suppliers here
        this.vmCount = vms;
        this.unroutedCount = unrouted;
        Gauge.builder("spicestream.vms", this, m -> m.vmCount.getAsInt()).description("VMs served").register(registry);
        Gauge.builder("spicestream.front.door.pending", this, m -> m.unroutedCount.getAsInt())
                .description("connections on the shared port not routed to a VM yet").register(registry);
    }

    /** The meters of one VM: its server, its input, its devices; closing the result removes them. */
    public AutoCloseable bindVm(Vm vm) {
        List<Meter> meters = new ArrayList<>();
        Tags vmTags = Tags.of("vm", vm.name());
        SpiceServer server = vm.server();
        meters.add(Gauge.builder("spicestream.sessions", server, s -> s.sessions().size())
                .description("connected SPICE sessions").tags(vmTags).register(registry));
        meters.add(Gauge.builder("spicestream.linking.connections", server, SpiceServer::linkingConnections)
                .description("connections in the link stage").tags(vmTags).register(registry));
        vm.input().guest().ifPresent(sink -> {
            Tags tags = vmTags.and("device", vm.input().device().map(d -> d.substring(d.indexOf('/') + 1)).orElse(""));
            meters.add(FunctionCounter.builder("spicestream.input.events.sent", sink, GuestInputSink::sentEvents)
                    .description("keyboard and mouse events sent to the VM").tags(tags).register(registry));
            meters.add(FunctionCounter.builder("spicestream.input.events.failed", sink, GuestInputSink::failedEvents)
                    .description("input events dropped (VM not reachable, refused, or no key number)").tags(tags)
                    .register(registry));
        });
        List<StreamDevice> bound = new ArrayList<>();
        List<java.net.URI> uris = vm.deviceUris();
        for (int i = 0; i < vm.devices().size(); i++) {
            StreamDevice d = vm.devices().get(i);
            bindDevice(meters, d, vmTags.and("device", vm.shortName(d), "uri", uris.get(i).toString()));
            bound.add(d);
        }
        vm.agentDevice().ifPresent(agent -> bindAgent(meters, agent, server.agent(),
                vmTags.and("device", Vm.AGENT_DEVICE, "uri", String.valueOf(vm.config().agent().port()))));
        return () -> {
            meters.forEach(registry::remove);
            devices.removeAll(bound);
            bound.forEach(d -> {
                snapshots.remove(d);
                deviceTags.remove(d);
            });
        };
    }

    private void bindAgent(List<Meter> meters, AgentDevice device, AgentRouter router, Tags tags) {
        meters.add(Gauge.builder("spicestream.agent.attached", router, r -> r.isAttached() ? 1 : 0)
                .description("1 while the guest agent has its port open").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.sessions", device, AgentDevice::sessions)
                .description("guest agent sessions (port openings)").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.bytes.in", device, AgentDevice::bytesIn)
                .description("bytes received from the guest agent").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.bytes.out", device, AgentDevice::bytesOut)
                .description("bytes written to the guest agent").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.protocol.errors", device, AgentDevice::protocolErrors)
                .description("guest agent protocol violations (its port is then dropped)").tags(tags)
                .register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.client.violations", router,
                        AgentRouter::clientViolations)
                .description("clients disconnected for breaking the agent rules (tokens, framing, sizes)").tags(tags)
                .register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.slow.clients", router, AgentRouter::slowClientsDropped)
                .description("clients disconnected for not taking the agent's data").tags(tags).register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.pieces.to.guest", router, AgentRouter::piecesToGuest)
                .description("agent data pieces (at most 2048 bytes) written to the guest agent").tags(tags)
                .register(registry));
        meters.add(FunctionCounter.builder("spicestream.agent.pieces.to.clients", router, AgentRouter::piecesToClients)
                .description("AGENT_DATA messages sent to clients").tags(tags).register(registry));
    }

    private void bindDevice(List<Meter> meters, StreamDevice device, Tags tags) {
        devices.add(device);
        deviceTags.put(device, Tags.of(tags.stream().filter(t -> !t.getKey().equals("uri")).toList()));
        snapshots.put(device, DeviceSnapshot.EMPTY);
        meters.add(counter("spicestream.device.frames.in", "frames received from the guest", tags, device,
                StreamDevice::framesIn));
        meters.add(counter("spicestream.device.frame.bytes.in", "frame payload bytes received from the guest", tags,
                device, StreamDevice::frameBytesIn));
        meters.add(counter("spicestream.device.bytes.in", "bytes received from the guest", tags, device,
                StreamDevice::bytesIn));
        meters.add(counter("spicestream.device.protocol.errors", "guest protocol violations", tags, device,
                StreamDevice::protocolErrors));
        meters.add(counter("spicestream.device.resets", "device resets (guest opened or closed the port)", tags,
                device, StreamDevice::resets));
        meters.add(counter("spicestream.device.errors", "times the device entered the error state", tags, device,
                StreamDevice::errors));
        meters.add(FunctionCounter.builder("spicestream.device.frames.dropped", device,
                        d -> snapshot(d).framesDropped())
                .description("frames skipped for full client queues, all clients").tags(tags).register(registry));
        meters.add(gauge("spicestream.device.stream.width", "width of the current stream (0 = none)", tags, device,
                d -> snapshot(d).format() == null ? 0 : snapshot(d).format().width()));
        meters.add(gauge("spicestream.device.stream.height", "height of the current stream (0 = none)", tags, device,
                d -> snapshot(d).format() == null ? 0 : snapshot(d).format().height()));
        meters.add(gauge("spicestream.device.stream.codec", "codec of the current stream, SpiceVideoCodecType"
                + " (1 = MJPEG, 0 = none)", tags, device,
                d -> snapshot(d).codec() == null ? 0 : snapshot(d).codec().wireValue()));
        meters.add(gauge("spicestream.device.clients", "display clients of the device", tags, device,
                d -> snapshot(d).clients()));
    }

    /** The last snapshot of {@code device}'s stream (taken by a scrape or {@link #refresh()}). */
    public DeviceSnapshot lastSnapshot(StreamDevice device) {
        return snapshot(device);
    }

    private Meter counter(String name, String description, Tags tags, StreamDevice d,
            ToDoubleFunction<StreamDevice> f) {
        return FunctionCounter.builder(name, d, f).description(description).tags(tags).register(registry);
    }

    private Meter gauge(String name, String description, Tags tags, StreamDevice d, ToDoubleFunction<StreamDevice> f) {
        return Gauge.builder(name, d, f).description(description).tags(tags).register(registry);
    }

    private DeviceSnapshot snapshot(StreamDevice d) {
        return snapshots.getOrDefault(d, DeviceSnapshot.EMPTY);
    }

    /** Refreshes the snapshots, then renders every meter in the Prometheus text format. */
    public String scrape() {
        refresh();
        return registry.scrape();
    }

    /** Takes a snapshot of every device on its executor (bounded wait) and updates the per-client gauges. */
    public synchronized void refresh() {
        List<List<MultiGauge.Row<?>>> rows = new ArrayList<>();
        clientGauges.forEach(g -> rows.add(new ArrayList<>()));
        for (StreamDevice d : devices) {
            DeviceSnapshot s = take(d);
            snapshots.put(d, s);
            for (ClientStats c : s.stats()) {
                Tags tags = deviceTags.getOrDefault(d, Tags.of("device", d.name())).and("client", c.client());
                for (int i = 0; i < clientGauges.size(); i++) {
                    rows.get(i).add(MultiGauge.Row.of(tags, clientGauges.get(i).value().applyAsDouble(c)));
                }
            }
        }
        for (int i = 0; i < clientGauges.size(); i++) {
            clientGauges.get(i).gauge().register(rows.get(i), true); // overwrite: gone clients disappear
        }
    }

    private DeviceSnapshot take(StreamDevice d) {
        Future<DeviceSnapshot> f;
        try {
            f = d.executor().submit(() -> {
                StreamChannel ch = d.streamChannel();
                if (ch == null) {
                    return DeviceSnapshot.EMPTY;
                }
                return new DeviceSnapshot(d.format(), ch.currentCodec(), ch.clientCount(), ch.framesDropped(),
                        ch.clientStats());
            });
        } catch (RejectedExecutionException e) {
            return snapshot(d); // shutting down
        }
        if (!f.awaitUninterruptibly(SNAPSHOT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || !f.isSuccess()) {
            LOG.debug("{}: no metrics snapshot ({})", d.name(), f.isDone() ? f.cause() : "timeout");
            return snapshot(d);
        }
        return f.getNow();
    }
}
