package io.javastor.core.reconcile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.pool.PoolOperations;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Versioned;

/**
 * Pool specs left half-done: Creating is resumed (the user asked for the pool and the disk is
 * theirs to give), Deleting is finished; both once the node is Online.
 */
public final class PoolSpecRecovery implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(PoolSpecRecovery.class);

    private final PoolOperations pools;
    private final NodeRegistry registry;

    public PoolSpecRecovery(PoolOperations pools, NodeRegistry registry) {
        this.pools = pools;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "pool-spec-recovery";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<PoolSpec> p : pools.list()) {
            if (p.spec().operation() == OperationStatus.CREATED) {
                continue;
            }
            if (!registry.get(p.spec().nodeId()).map(n -> n.status().isOnline()).orElse(false)) {
                busy = true;
                continue;
            }
            OperationGuard.Held held = pools.guard().tryAcquire(p.spec().id());
            if (held == null) {
                busy = true;
                continue;
            }
            try (held) {
                Versioned<PoolSpec> fresh = pools.get(p.spec().id());
                if (fresh.spec().operation() == OperationStatus.CREATING) {
                    log.info("recovering pool left Creating poolId={} nodeId={}: resuming", p.spec().id(), p.spec().nodeId());
                    pools.realize(fresh);
                } else if (fresh.spec().operation() == OperationStatus.DELETING) {
                    log.info("recovering pool left Deleting poolId={} nodeId={}: finishing", p.spec().id(), p.spec().nodeId());
                    pools.unrealize(fresh);
                }
            } catch (CoreException.NotFound gone) {
                // removed meanwhile: nothing left to do
            } catch (CoreException e) {
                busy = true;
                log.warn("pool recovery step failed poolId={}: {}", p.spec().id(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "pools left Creating/Deleting remain");
    }
}
