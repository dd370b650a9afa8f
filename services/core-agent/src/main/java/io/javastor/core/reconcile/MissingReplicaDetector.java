package io.javastor.core.reconcile;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Versioned;

/**
 * Drift the agent can see but must not paper over: a Created replica its (Online, freshly polled)
 * node no longer has, though the pool is there. Recreating it empty would hide lost data, so it
 * is recorded (once per disappearance) and the volume reports Degraded; replacing it with a
 * rebuilt replica is the nexus's job.
 */
public final class MissingReplicaDetector implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(MissingReplicaDetector.class);

    private final ReplicaOperations replicas;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final Set<String> reported = new HashSet<>();

    public MissingReplicaDetector(ReplicaOperations replicas, NodeRegistry registry, EventHistory events) {
        this.replicas = replicas;
        this.registry = registry;
        this.events = events;
    }

    @Override
    public String name() {
        return "missing-replicas";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Set<String> missingNow = new HashSet<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            ReplicaSpec s = r.spec();
            if (s.operation() != OperationStatus.CREATED) {
                continue;
            }
            Optional<NodeState> node = registry.get(s.nodeId());
            if (node.isEmpty() || !node.get().status().isOnline() || !node.get().inventoryKnown()
                    || node.get().pools().stream().noneMatch(p -> p.id().equals(s.poolId()))
                    || node.get().replicas().stream().anyMatch(x -> x.uuid().equals(s.uuid()))) {
                continue;
            }
            missingNow.add(s.uuid());
            if (reported.add(s.uuid())) {
                log.warn("replica missing on its node uuid={} volumeId={} nodeId={} poolId={}", s.uuid(), s.volumeId(), s.nodeId(), s.poolId());
                events.record("replica", s.uuid(), "ReplicaMissing", Severity.WARNING, "node " + s.nodeId() + " pool " + s.poolId()
                        + " no longer has this replica of volume " + s.volumeId());
            }
        }
        reported.retainAll(missingNow);
        return ReconcileOutcome.IDLE;
    }
}
