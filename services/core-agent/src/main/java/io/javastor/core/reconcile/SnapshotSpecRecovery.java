package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.snapshot.SnapshotOperations;
import io.javastor.core.snapshot.VolumeSnapshotSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Snapshot specs nobody is working on that were left half-done: Creating is discarded with the replica snapshots it
 * made (they hold pool space; a retried create makes a new attempt anyway), Deleting is finished. Without this, a
 * snapshot whose create or delete the caller gave up on would hold its clusters forever.
 */
public final class SnapshotSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(SnapshotSpecRecovery.class);

    private final SpecStore store;
    private final SnapshotOperations snapshots;

    public SnapshotSpecRecovery(SpecStore store, SnapshotOperations snapshots) {
        this.store = store;
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "snapshot-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<VolumeSnapshotSpec> s : store.list(VolumeSnapshotSpec.KIND)) {
            if (s.spec().operation() == OperationStatus.CREATED) {
                continue;
            }
            OperationGuard.Held held = snapshots.guard().tryAcquire(s.spec().volumeId());
            if (held == null) {
                busy = true; // an operation on its volume is running: maybe this very create or delete
                continue;
            }
            try (held) {
                // Re-read under the guard: the operation that just released it may have finished it.
                var fresh = store.get(VolumeSnapshotSpec.KIND, s.spec().id());
                if (fresh.isEmpty() || fresh.get().spec().operation() == OperationStatus.CREATED) {
                    continue;
                }
                log.info("recovering snapshot left {} snapshotId={} volumeId={}", fresh.get().spec().operation(), s.spec().id(),
                        s.spec().volumeId());
                snapshots.finishLeftover(fresh.get());
            } catch (CoreException e) {
                busy = true;
                log.warn("snapshot recovery step failed snapshotId={} volumeId={}: {}", s.spec().id(), s.spec().volumeId(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "snapshots left Creating/Deleting remain");
    }
}
