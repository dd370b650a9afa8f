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
            OperationGuard.Held held = volumes.guard().tryAcquire(s.volumeId());
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
                if (!registry.get(s.nodeId()).map(n -> n.status().isOnline()).orElse(false)) {
                    busy = true; // its node must be back before it can be destroyed there
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
}
