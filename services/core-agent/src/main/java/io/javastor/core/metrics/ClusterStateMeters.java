package io.javastor.core.metrics;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import io.javastor.core.leader.LeaderElection;
import io.javastor.core.leader.LeadershipChanged;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.volume.VolumeViews;
import io.javastor.core.volume.VolumeStatus;
import io.javastor.core.volume.VolumeView;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What the cluster looks like, for dashboards and alerts (the chart's PrometheusRule, docs/operations.md): volumes by
 * status, their replicas present or missing, nodes by status, rebuilds running, and this agent's leadership. Read
 * from the agent's own view (specs and the nodes' reports) at most once per {@code refresh} however often Prometheus
 * scrapes; the standby agents answer too (volumes from the shared specs), so alerts take {@code max} over agents.
 * The reconcilers' step times and errors and the placement refusals are counted where they happen (ReconcilePoller,
 * ReplicaPlacer).
 */
@Component
public class ClusterStateMeters {
    private static final Duration REFRESH = Duration.ofSeconds(5);

    private record Snapshot(Instant at, Map<VolumeStatus, Long> volumes, long replicasPresent, long replicasMissing,
                            long nodesOnline, long nodesOffline, long rebuilds, Map<String, Long> snapshots, long replicaSnapshots) {
    }

    private final VolumeViews volumes;
    private final io.javastor.core.snapshot.SnapshotOperations snapshots;
    private final NodeRegistry registry;
    private final LeaderElection election;
    private final Clock clock = Clock.systemUTC();
    private final MeterRegistry meters;
    private volatile Snapshot snapshot;

    public ClusterStateMeters(VolumeViews volumes, io.javastor.core.snapshot.SnapshotOperations snapshots, NodeRegistry registry,
                              LeaderElection election, MeterRegistry meters) {
        this.volumes = volumes;
        this.snapshots = snapshots;
        this.registry = registry;
        this.election = election;
        this.meters = meters;
        for (VolumeStatus s : VolumeStatus.values()) {
            Gauge.builder("javastor.volumes", this, m -> m.current().volumes().getOrDefault(s, 0L))
                    .description("volumes by status (Online: every replica in the target; Degraded: fewer; Faulted: none)")
                    .tag("status", s.name().toLowerCase(java.util.Locale.ROOT)).register(meters);
        }
        Gauge.builder("javastor.volume.replicas", this, m -> m.current().replicasPresent()).tag("state", "present")
                .description("volumes' replicas their nodes report").register(meters);
        Gauge.builder("javastor.volume.replicas", this, m -> m.current().replicasMissing()).tag("state", "missing")
                .description("volumes' replicas their nodes do not report (node down, replica lost)").register(meters);
        Gauge.builder("javastor.nodes", this, m -> m.current().nodesOnline()).tag("status", "online").register(meters);
        Gauge.builder("javastor.nodes", this, m -> m.current().nodesOffline()).tag("status", "offline")
                .description("nodes whose heartbeats stopped (or not heard from since this agent started)").register(meters);
        Gauge.builder("javastor.rebuilds", this, m -> m.current().rebuilds()).description("rebuilds running on Online nodes")
                .register(meters);
        for (String status : java.util.List.of("creating", "created", "deleting")) {
            Gauge.builder("javastor.snapshots", this, m -> m.current().snapshots().getOrDefault(status, 0L))
                    .description("volume snapshots by the status of their spec").tag("status", status).register(meters);
        }
        Gauge.builder("javastor.snapshot.replicas", this, m -> m.current().replicaSnapshots())
                .description("replica snapshots the volume snapshots hold (each holds its clusters in its pool)").register(meters);
        Gauge.builder("javastor.leader", election, e -> e.isLeader() ? 1 : 0).description("1 on the agent that leads").register(meters);
    }

    /** Counted here rather than derived: a flapping leader shows as changes, whatever the scrape interval. */
    @EventListener
    public void leadershipChanged(LeadershipChanged event) {
        meters.counter("javastor.leader.changes", "leading", Boolean.toString(event.leading())).increment();
    }

    private Snapshot current() {
        Snapshot s = snapshot;
        Instant now = clock.instant();
        if (s != null && s.at().plus(REFRESH).isAfter(now)) {
            return s;
        }
        synchronized (this) {
            s = snapshot;
            if (s != null && s.at().plus(REFRESH).isAfter(now)) {
                return s;
            }
            snapshot = s = take(now);
            return s;
        }
    }

    private Snapshot take(Instant now) {
        Map<VolumeStatus, Long> byStatus = new EnumMap<>(VolumeStatus.class);
        long present = 0;
        long missing = 0;
        for (VolumeView v : volumes.list()) {
            byStatus.merge(v.status(), 1L, Long::sum);
            for (VolumeView.ReplicaView r : v.replicas()) {
                if (r.present()) {
                    present++;
                } else {
                    missing++;
                }
            }
        }
        long online = 0;
        long offline = 0;
        long rebuilds = 0;
        for (NodeState n : registry.all()) {
            if (n.status().isOnline()) {
                online++;
                rebuilds += n.nexuses().stream().mapToLong(NexusState::rebuilds).sum();
            } else {
                offline++;
            }
        }
        Map<String, Long> snapshotsByStatus = new java.util.HashMap<>();
        long replicaSnapshots = 0;
        for (var snap : snapshots.list("", 0, 0).snapshots()) {
            snapshotsByStatus.merge(snap.operation().name().toLowerCase(java.util.Locale.ROOT), 1L, Long::sum);
            replicaSnapshots += snap.replicas().size();
        }
        return new Snapshot(now, byStatus, present, missing, online, offline, rebuilds, snapshotsByStatus, replicaSnapshots);
    }
}
