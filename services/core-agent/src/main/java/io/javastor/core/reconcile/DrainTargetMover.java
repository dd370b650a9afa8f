package io.javastor.core.reconcile;

import java.util.List;
import java.util.Map;

import io.javastor.core.operation.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A drained node's volume targets move to other nodes, one step per target, in order (the node answers, so the old
 * nexus is shut down cleanly before the new one serves); the node reports Drained once it holds none.
 */
public final class DrainTargetMover implements Reconciler {

    private final SpecStore store;
    private final NexusOperations nexuses;
    private final TargetEviction eviction;

    public DrainTargetMover(SpecStore store, OperationGuard volumeGuard, NexusOperations nexuses, ReplicaOperations replicas) {
        this.store = store;
        this.nexuses = nexuses;
        this.eviction = new TargetEviction(store, volumeGuard, nexuses, replicas);
    }

    @Override
    public String name() {
        return "drain-target-mover";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Map<String, List<Versioned<NexusSpec>>> byNode = nexuses.volumeTargetsByNode();
        boolean busy = false;
        for (Versioned<NodeSpec> node : store.list(NodeSpec.KIND)) {
            if (!node.spec().draining()) {
                continue;
            }
            String id = node.spec().id();
            for (Versioned<NexusSpec> target : byNode.getOrDefault(id, List.of())) {
                busy |= !eviction.moveOff(target.spec().uuid(), id, "node " + id + " is drained");
            }
        }
        return ReconcileOutcome.busyIf(busy, "targets on drained nodes remain");
    }
}
