package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.snapshot.SnapshotOperations;
import io.javastor.core.snapshot.VolumeSnapshotSpec;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Snapshot specs nobody is working on that were left half-done: Creating is discarded with the replica snapshots it
 * made (they hold pool space; a retried create makes a new attempt anyway), Deleting is finished. Without this, a
 * snapshot whose create or delete the caller gave up on would hold its clusters forever.
 */
public final class SnapshotSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(SnapshotSpecRecovery.class);

    private final SnapshotOperations snapshots;
    private final LeftoverSpecRecovery<VolumeSnapshotSpec> recovery;

    public SnapshotSpecRecovery(SpecStore store, SnapshotOperations snapshots) {
        this.snapshots = snapshots;
        // Snapshot operations are serialized per volume.
        this.recovery = new LeftoverSpecRecovery<>("snapshot", store, VolumeSnapshotSpec.KIND, snapshots.guard(),
                VolumeSnapshotSpec::volumeId, this::finish);
    }

    @Override
    public String name() {
        return "snapshot-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        return recovery.reconcile();
    }

    private boolean finish(Versioned<VolumeSnapshotSpec> s) {
        log.info("recovering snapshot left {} snapshotId={} volumeId={}", s.spec().operation(), s.spec().id(), s.spec().volumeId());
        snapshots.finishLeftover(s);
        return true;
    }
}
