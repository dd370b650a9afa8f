package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeOperations;
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
    private final VolumeOperations volumes;
    private final NodeRegistry registry;

    public ReplicaSpecRecovery(SpecStore store, ReplicaOperations replicas, VolumeOperations volumes, NodeRegistry registry) {
        this.store = store;
        this.replicas = replicas;
        this.volumes = volumes;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "replica-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            ReplicaSpec s = r.spec();
            if (s.operation() == OperationStatus.CREATED) {
                continue;
            }
            // A replica outside any volume is guarded under its own uuid (see StandaloneReplicas).
            OperationGuard.Held held = volumes.guard().tryAcquire(s.volumeId().isEmpty() ? s.uuid() : s.volumeId());
            if (held == null) {
                busy = true;
                continue;
            }
            try (held) {
                var fresh = store.get(ReplicaSpec.KIND, s.uuid());
                if (fresh.isEmpty() || fresh.get().spec().operation() == OperationStatus.CREATED) {
                    continue;
                }
                var volume = store.get(VolumeSpec.KIND, s.volumeId());
                if (fresh.get().spec().operation() == OperationStatus.CREATING && volume.isPresent()
                        && volume.get().spec().operation() == OperationStatus.CREATING) {
                    continue;
                }
                if (!readyForReplicaWork(s)) {
                    busy = true; // its node must be back, and its pool imported, before it can be destroyed there
                    continue;
                }
                log.info("recovering replica left {} uuid={} volumeId={} nodeId={}: destroying", fresh.get().spec().operation(),
                        s.uuid(), s.volumeId(), s.nodeId());
                replicas.destroy(fresh.get());
            } catch (CoreException e) {
                busy = true;
                log.warn("replica recovery step failed uuid={}: {}", s.uuid(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "replicas left Creating/Deleting remain");
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
                || store.get(io.javastor.core.pool.PoolSpec.KIND, s.poolId()).isEmpty();
    }
}
