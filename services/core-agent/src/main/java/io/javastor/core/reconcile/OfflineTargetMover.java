package io.javastor.core.reconcile;

import java.util.List;
import java.util.Map;

import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A volume target whose node went Offline (its heartbeats stopped) moves to a healthy node, so the volume serves
 * again without waiting for the node: the new target is fenced (docs/ha.md), so the old one cannot write even if
 * the node was only cut off. Hosts learn the new address from their path agent. Only Offline, never Unknown (after
 * an agent failover every node is Unknown until its next heartbeat, which says nothing about the node).
 */
public final class OfflineTargetMover implements Reconciler {

    private final NexusOperations nexuses;
    private final TargetEviction eviction;
    private final NodeRegistry registry;

    public OfflineTargetMover(SpecStore store, OperationGuard volumeGuard, NexusOperations nexuses, ReplicaOperations replicas,
                              NodeRegistry registry) {
        this.nexuses = nexuses;
        this.eviction = new TargetEviction(store, volumeGuard, nexuses, replicas);
        this.registry = registry;
    }

    @Override
    public String name() {
        return "offline-target-mover";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Map.Entry<String, List<Versioned<NexusSpec>>> e : nexuses.volumeTargetsByNode().entrySet()) {
            String node = e.getKey();
            boolean offline = registry.get(node).map(s -> s.status() instanceof NodeStatus.Offline).orElse(false);
            if (!offline) {
                continue;
            }
            for (Versioned<NexusSpec> target : e.getValue()) {
                busy |= !eviction.moveOff(target.spec().uuid(), node, "node " + node + " is offline");
            }
        }
        return ReconcileOutcome.busyIf(busy, "targets on offline nodes remain");
    }
}
