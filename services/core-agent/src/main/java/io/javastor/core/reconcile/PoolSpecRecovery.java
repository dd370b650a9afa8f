package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.pool.PoolOperations;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Pool specs left half-done: Creating is resumed (the user asked for the pool and the disk is
 * theirs to give), Deleting is finished; both once the node is Online.
 */
public final class PoolSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(PoolSpecRecovery.class);

    private final PoolOperations pools;
    private final NodeRegistry registry;
    private final LeftoverSpecRecovery<PoolSpec> recovery;

    public PoolSpecRecovery(SpecStore store, PoolOperations pools, NodeRegistry registry) {
        this.pools = pools;
        this.registry = registry;
        this.recovery = new LeftoverSpecRecovery<>("pool", store, PoolSpec.KIND, pools.guard(), PoolSpec::id, this::finish);
    }

    @Override
    public String name() {
        return "pool-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        return recovery.reconcile();
    }

    private boolean finish(Versioned<PoolSpec> p) {
        if (!registry.get(p.spec().nodeId()).map(n -> n.status().isOnline()).orElse(false)) {
            return false;
        }
        try {
            if (p.spec().operation() == OperationStatus.CREATING) {
                log.info("recovering pool left Creating poolId={} nodeId={}: resuming", p.spec().id(), p.spec().nodeId());
                pools.realize(p);
            } else if (p.spec().operation() == OperationStatus.DELETING) {
                log.info("recovering pool left Deleting poolId={} nodeId={}: finishing", p.spec().id(), p.spec().nodeId());
                pools.unrealize(p);
            }
        } catch (CoreException.NotFound gone) {
            // removed meanwhile: nothing left to do
        }
        return true;
    }
}
