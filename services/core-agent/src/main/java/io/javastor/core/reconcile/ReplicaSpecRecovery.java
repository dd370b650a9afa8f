package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.OperationGuard;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeSpec;

/**
 * Replica specs left half-done outside a volume create: Deleting ones are destroyed once their node
 * is Online; Creating ones of a Created volume (a scale-up cut short) are undone the same way.
 * Replicas of a volume still Creating are left to {@link VolumeSpecRecovery}.
 */
public final class ReplicaSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(ReplicaSpecRecovery.class);

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final NodeRegistry registry;
    private final LeftoverSpecRecovery<ReplicaSpec> recovery;

    public ReplicaSpecRecovery(SpecStore store, ReplicaOperations replicas, OperationGuard volumeGuard, NodeRegistry registry) {
        this.store = store;
        this.replicas = replicas;
        this.registry = registry;
        // A replica outside any volume is guarded under its own uuid (see StandaloneReplicas).
        this.recovery = new LeftoverSpecRecovery<>("replica", store, ReplicaSpec.KIND, volumeGuard,
                s -> s.volumeId().isEmpty() ? s.uuid() : s.volumeId(), this::finish);
    }

    @Override
    public String name() {
        return "replica-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        return recovery.reconcile();
    }

    private boolean finish(Versioned<ReplicaSpec> r) {
        ReplicaSpec s = r.spec();
        var volume = store.get(VolumeSpec.KIND, s.volumeId());
        if (s.operation() == OperationStatus.CREATING && volume.isPresent()
                && volume.get().spec().operation() == OperationStatus.CREATING) {
            return true;
        }
        if (!readyForReplicaWork(s)) {
            return false; // its node must be back, and its pool imported, before it can be destroyed there
        }
        log.info("recovering replica left {} uuid={} volumeId={} nodeId={}: destroying", s.operation(), s.uuid(), s.volumeId(), s.nodeId());
        replicas.destroy(r);
        return true;
    }

    /**
     * The node is Online with a fresh inventory that shows the replica's pool (or the pool has no
     * spec any more): otherwise a "not found" from the node could mean "pool not imported yet".
     */
    private boolean readyForReplicaWork(ReplicaSpec s) {
        var node = registry.get(s.nodeId());
        if (node.isEmpty() || !node.get().status().isOnline() || !node.get().inventoryKnown()) {
            return false;
        }
        return node.get().pools().stream().anyMatch(p -> p.id().equals(s.poolId()))
                || store.get(PoolSpec.KIND, s.poolId()).isEmpty();
    }
}
