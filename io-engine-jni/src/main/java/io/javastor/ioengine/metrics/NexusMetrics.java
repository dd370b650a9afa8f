package io.javastor.ioengine.metrics;

import io.javastor.ioengine.device.IoStats;
import io.javastor.ioengine.device.IoStats.Kind;
import io.javastor.ioengine.nexus.Nexus;
import io.javastor.ioengine.nexus.NexusChild;
import io.javastor.ioengine.nexus.NexusRebuildJob;
import io.javastor.ioengine.nexus.NexusRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Per-nexus metrics (Prometheus via Micrometer): the I/O its users see (ops, bytes, errors, latency per op), its
 * state and its children's, and rebuild progress — what an operator alerts on when a volume runs degraded. Meters
 * read the nexus at scrape time and follow the nexuses that exist, re-synced every few seconds.
 */
@Component
public class NexusMetrics {
    private static final String[] NEXUS_STATES = {"Online", "Degraded", "Faulted", "ShuttingDown", "Shutdown"};
    private static final String[] CHILD_STATES = {"Online", "Degraded", "Faulted"};

    private final MeterRegistry meters;
    private final NexusRegistry nexuses;
    private final Map<Nexus, List<Meter>> bound = new HashMap<>();

    public NexusMetrics(MeterRegistry meters, NexusRegistry nexuses) {
        this.meters = meters;
        this.nexuses = nexuses;
        sync();
    }

    @Scheduled(fixedDelayString = "${javastor.io-engine.metrics-sync:5s}")
    public synchronized void sync() {
        Set<Nexus> live = new HashSet<>(nexuses.list());
        for (Nexus n : live) {
            bound.computeIfAbsent(n, this::bind);
        }
        bound.entrySet().removeIf(e -> {
            if (live.contains(e.getKey())) {
                return false;
            }
            e.getValue().forEach(meters::remove);
            return true;
        });
    }

    private List<Meter> bind(Nexus n) {
        Tags tags = Tags.of("nexus", n.uuid().toString());
        IoStats s = n.stats();
        List<Meter> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            Tags t = tags.and("op", StorageMetrics.KINDS[k.ordinal()]);
            out.add(FunctionCounter.builder("javastor_nexus_io_bytes", s, x -> x.bytes(k)).tags(t).register(meters));
            out.add(FunctionCounter.builder("javastor_nexus_io_errors", s, x -> x.errors(k)).tags(t).register(meters));
            // ops count and total latency: rate(sum)/rate(count) is the mean latency.
            out.add(FunctionTimer.builder("javastor_nexus_io_latency", s, x -> x.completed(k), x -> x.totalNanos(k),
                    TimeUnit.NANOSECONDS).tags(t).register(meters));
        }
        for (String state : NEXUS_STATES) {
            out.add(Gauge.builder("javastor_nexus_state", n, x -> x.state().name().equals(state) ? 1 : 0)
                    .tags(tags.and("state", state)).description("1 for the nexus's current state").register(meters));
        }
        for (String state : CHILD_STATES) {
            out.add(Gauge.builder("javastor_nexus_children", n, x -> countChildren(x, state)).tags(tags.and("state", state)).register(meters));
        }
        out.add(Gauge.builder("javastor_nexus_rebuilds", n, x -> x.rebuilds().size()).description("rebuilds in progress")
                .tags(tags).register(meters));
        out.add(Gauge.builder("javastor_nexus_rebuild_blocks_remaining", n, NexusMetrics::blocksToRebuild).tags(tags).register(meters));
        out.add(Gauge.builder("javastor_nexus_size_bytes", n, Nexus::size).tags(tags).register(meters));
        return out;
    }

    private static double countChildren(Nexus n, String state) {
        int c = 0;
        for (NexusChild child : n.children()) {
            if (child.state().name().equals(state)) {
                c++;
            }
        }
        return c;
    }

    private static double blocksToRebuild(Nexus n) {
        long left = 0;
        for (NexusRebuildJob job : n.rebuilds()) {
            var s = job.stats();
            left += s.blocksTotal() - s.blocksRecovered();
        }
        return left;
    }
}
