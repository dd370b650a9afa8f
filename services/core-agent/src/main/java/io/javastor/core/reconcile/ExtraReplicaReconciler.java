package io.javastor.core.reconcile;

import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeReplicas;
import io.javastor.core.volume.VolumeSpec;

/**
 * A Created volume with more Created replicas than its replica count loses the least healthy ones.
 * (Fewer replicas than the count is the nexus's job: a new replica must be rebuilt, not just made.)
 */
public final class ExtraReplicaReconciler implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(ExtraReplicaReconciler.class);

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final OperationGuard volumeGuard;
    private final VolumeReplicas volumeReplicas;
    private final EventHistory events;

    public ExtraReplicaReconciler(SpecStore store, ReplicaOperations replicas, OperationGuard volumeGuard, VolumeReplicas volumeReplicas,
                                  EventHistory events) {
        this.store = store;
        this.replicas = replicas;
        this.volumeGuard = volumeGuard;
        this.volumeReplicas = volumeReplicas;
        this.events = events;
    }

    @Override
    public String name() {
        return "extra-replicas";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Map<String, Integer> createdPerVolume = new HashMap<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            if (r.spec().operation() == OperationStatus.CREATED) {
                createdPerVolume.merge(r.spec().volumeId(), 1, Integer::sum);
            }
        }
        boolean busy = false;
        for (Versioned<VolumeSpec> v : store.list(VolumeSpec.KIND)) {
            VolumeSpec spec = v.spec();
            if (spec.operation() != OperationStatus.CREATED || createdPerVolume.getOrDefault(spec.uuid(), 0) <= spec.replicaCount()) {
                continue;
            }
            OperationGuard.Held held = volumeGuard.tryAcquire(spec.uuid());
            if (held == null) {
                busy = true; // an operation (a scale-up, say) is running: not left over
                continue;
            }
            try (held) {
                var fresh = store.get(VolumeSpec.KIND, spec.uuid());
                if (fresh.isPresent() && fresh.get().spec().operation() == OperationStatus.CREATED) {
                    int removed = trim(fresh.get().spec());
                    log.info("extra replicas removed volumeId={} count={}", spec.uuid(), removed);
                }
            } catch (CoreException e) {
                busy = true;
                log.warn("extra replica removal failed volumeId={}: {}", spec.uuid(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "volumes with extra replicas remain");
    }

    /**
     * Removes Created replicas beyond the volume's replica count (a scale-down cut short by a crash
     * after the spec changed). Caller holds the guard. Returns how many were removed.
     */
    private int trim(VolumeSpec spec) {
        long created = replicas.ofVolume(spec.uuid()).stream().filter(r -> r.spec().operation() == OperationStatus.CREATED).count();
        if (created <= spec.replicaCount()) {
            return 0;
        }
        volumeReplicas.removeDownTo(spec.uuid(), spec.replicaCount());
        events.record("volume", spec.uuid(), "VolumeReplicasTrimmed", Severity.INFO,
                (created - spec.replicaCount()) + " replica(s) beyond the replica count " + spec.replicaCount() + " removed");
        return (int) (created - spec.replicaCount());
    }
}
