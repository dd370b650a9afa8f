package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Targets left half-done: a publish cut short (Creating) is undone, since its caller never got a
 * URI and will retry; an unpublish (Deleting) is finished once the node is reachable.
 */
public final class NexusSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(NexusSpecRecovery.class);

    private final NexusOperations nexuses;
    private final LeftoverSpecRecovery<NexusSpec> recovery;

    public NexusSpecRecovery(SpecStore store, NexusOperations nexuses, OperationGuard volumeGuard) {
        this.nexuses = nexuses;
        // A target is its volume's: guarded by the volume guard under the volume's uuid, which is the nexus uuid.
        this.recovery = new LeftoverSpecRecovery<>("target", store, NexusSpec.KIND, volumeGuard, NexusSpec::uuid, this::finish);
    }

    @Override
    public String name() {
        return "nexus-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        return recovery.reconcile();
    }

    private boolean finish(Versioned<NexusSpec> n) {
        log.info("recovering target left {} volumeId={} nodeId={}", n.spec().operation(), n.spec().uuid(), n.spec().nodeId());
        return nexuses.remove(n);
    }
}
