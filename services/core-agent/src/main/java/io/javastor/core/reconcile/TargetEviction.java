package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.volume.VolumeSpec;

/**
 * A volume's target moved off a node the reconcilers want it off ({@link OfflineTargetMover}, {@link DrainTargetMover}),
 * without waiting for the volume's guard: a volume busy with an operation is looked at again on the next pass.
 */
final class TargetEviction {

    private static final Logger log = LoggerFactory.getLogger(TargetEviction.class);

    private final SpecStore store;
    private final OperationGuard volumeGuard;
    private final NexusOperations nexuses;
    private final ReplicaOperations replicas;

    TargetEviction(SpecStore store, OperationGuard volumeGuard, NexusOperations nexuses, ReplicaOperations replicas) {
        this.store = store;
        this.volumeGuard = volumeGuard;
        this.nexuses = nexuses;
        this.replicas = replicas;
    }

    /**
     * Moves the volume's target off {@code fromNode} if it is still there. Returns false when the guard is held (come
     * back later) or the move failed.
     */
    boolean moveOff(String uuid, String fromNode, String reason) {
        OperationGuard.Held held = volumeGuard.tryAcquire(uuid);
        if (held == null) {
            return false;
        }
        try (held) {
            var volume = store.get(VolumeSpec.KIND, uuid);
            var target = nexuses.of(uuid);
            if (volume.isEmpty() || volume.get().spec().operation() != OperationStatus.CREATED || target.isEmpty()
                    || target.get().spec().operation() != OperationStatus.CREATED || !target.get().spec().nodeId().equals(fromNode)) {
                return true;
            }
            nexuses.move(target.get(), volume.get().spec().size(), replicas.ofVolume(uuid), "", reason);
            return true;
        } catch (CoreException e) {
            log.warn("target not moved volumeId={} fromNode={} reason={}: {}", uuid, fromNode, reason, e.getMessage());
            return false;
        }
    }
}
