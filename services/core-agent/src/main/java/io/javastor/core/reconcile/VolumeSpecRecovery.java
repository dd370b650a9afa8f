package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
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

    private final SpecStore store;
    private final VolumeOperations volumes;

    public VolumeSpecRecovery(SpecStore store, VolumeOperations volumes) {
        this.store = store;
        this.volumes = volumes;
    }

    @Override
    public String name() {
        return "volume-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<VolumeSpec> v : store.list(VolumeSpec.KIND)) {
            OperationStatus op = v.spec().operation();
            if (op == OperationStatus.CREATED) {
                continue;
            }
            OperationGuard.Held held = volumes.guard().tryAcquire(v.spec().uuid());
            if (held == null) {
                busy = true; // an operation is running on it: not left over
                continue;
            }
            try (held) {
                // Re-read under the guard: the operation that just released it may have finished it.
                var fresh = store.get(VolumeSpec.KIND, v.spec().uuid());
                if (fresh.isEmpty() || fresh.get().spec().operation() == OperationStatus.CREATED) {
                    continue;
                }
                if (fresh.get().spec().operation() == OperationStatus.CREATING) {
                    log.info("recovering volume left Creating volumeId={}: rolling back", v.spec().uuid());
                    volumes.rollBack(v.spec().uuid(), null);
                } else {
                    log.info("recovering volume left Deleting volumeId={}: finishing destroy", v.spec().uuid());
                    volumes.finishDestroy(fresh.get());
                }
            } catch (CoreException e) {
                busy = true;
                log.warn("volume recovery step failed volumeId={}: {}", v.spec().uuid(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "volumes left Creating/Deleting remain");
    }
}
