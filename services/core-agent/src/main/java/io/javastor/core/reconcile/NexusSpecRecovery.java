package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeOperations;

/**
 * Targets left half-done: a publish cut short (Creating) is undone, since its caller never got a
 * URI and will retry; an unpublish (Deleting) is finished once the node is reachable.
 */
public final class NexusSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(NexusSpecRecovery.class);

    private final SpecStore store;
    private final NexusOperations nexuses;
    private final VolumeOperations volumes;

    public NexusSpecRecovery(SpecStore store, NexusOperations nexuses, VolumeOperations volumes) {
        this.store = store;
        this.nexuses = nexuses;
        this.volumes = volumes;
    }

    @Override
    public String name() {
        return "nexus-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<NexusSpec> n : store.list(NexusSpec.KIND)) {
            if (n.spec().operation() == OperationStatus.CREATED) {
                continue;
            }
            OperationGuard.Held held = volumes.guard().tryAcquire(n.spec().uuid());
            if (held == null) {
                busy = true;
                continue;
            }
            try (held) {
                var fresh = store.get(NexusSpec.KIND, n.spec().uuid());
                if (fresh.isEmpty() || fresh.get().spec().operation() == OperationStatus.CREATED) {
                    continue;
                }
                log.info("recovering target left {} volumeId={} nodeId={}", fresh.get().spec().operation(), n.spec().uuid(), n.spec().nodeId());
                busy |= !nexuses.remove(fresh.get());
            } catch (CoreException e) {
                busy = true;
                log.warn("target recovery step failed volumeId={}: {}", n.spec().uuid(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "targets left Creating/Deleting remain");
    }
}
