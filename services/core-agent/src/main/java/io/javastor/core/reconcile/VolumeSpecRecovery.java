package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.OperationGuard;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeOperations;
import io.javastor.core.volume.VolumeSpec;

/**
 * Volume specs nobody is working on that were left half-done: Creating is rolled back (the caller
 * never got an answer and will retry its idempotent create), Deleting is finished.
 */
public final class VolumeSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(VolumeSpecRecovery.class);

    private final VolumeOperations volumes;
    private final LeftoverSpecRecovery<VolumeSpec> recovery;

    public VolumeSpecRecovery(SpecStore store, OperationGuard volumeGuard, VolumeOperations volumes) {
        this.volumes = volumes;
        this.recovery = new LeftoverSpecRecovery<>("volume", store, VolumeSpec.KIND, volumeGuard, VolumeSpec::uuid, this::finish);
    }

    @Override
    public String name() {
        return "volume-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        return recovery.reconcile();
    }

    private boolean finish(Versioned<VolumeSpec> v) {
        if (v.spec().operation() == OperationStatus.CREATING) {
            log.info("recovering volume left Creating volumeId={}: rolling back", v.spec().uuid());
            volumes.rollBack(v.spec().uuid(), null);
        } else {
            log.info("recovering volume left Deleting volumeId={}: finishing destroy", v.spec().uuid());
            volumes.finishDestroy(v);
        }
        return true;
    }
}
