package io.javastor.core.reconcile;

import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.ioengine.v1.Pool;
import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.pool.PoolOperations;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Versioned;

/**
 * A Created pool its node does not report (the io-engine restarted and does not know its disks) is
 * imported from its disk: the pool's data is on the disk, only the engine forgot it.
 */
public final class PoolImportReconciler implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(PoolImportReconciler.class);

    private final PoolOperations pools;
    private final NodeRegistry registry;
    private final IoEngineConnections engines;
    private final NodeStatePoller poller;
    private final EventHistory events;

    public PoolImportReconciler(PoolOperations pools, NodeRegistry registry, IoEngineConnections engines, NodeStatePoller poller,
                                EventHistory events) {
        this.pools = pools;
        this.registry = registry;
        this.engines = engines;
        this.poller = poller;
        this.events = events;
    }

    @Override
    public String name() {
        return "pool-import";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        for (Versioned<PoolSpec> p : pools.list()) {
            PoolSpec spec = p.spec();
            if (spec.operation() != OperationStatus.CREATED) {
                continue;
            }
            Optional<NodeState> node = registry.get(spec.nodeId());
            if (node.isEmpty() || !node.get().status().isOnline() || !node.get().inventoryKnown()
                    || node.get().pools().stream().anyMatch(x -> x.id().equals(spec.id()))) {
                continue;
            }
            OperationGuard.Held held = pools.guard().tryAcquire(spec.id());
            if (held == null) {
                busy = true;
                continue;
            }
            try (held) {
                Pool imported = engines.node(spec.nodeId()).importPool(spec.id(), spec.disks());
                poller.observed(spec.nodeId(), imported);
                events.record("pool", spec.id(), "PoolImported", Severity.INFO,
                        "node " + spec.nodeId() + " did not report the pool; imported from " + spec.disks());
                log.info("pool imported poolId={} nodeId={}", spec.id(), spec.nodeId());
            } catch (CoreException e) {
                busy = true;
                log.warn("pool import failed poolId={} nodeId={}: {}", spec.id(), spec.nodeId(), e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "pools not yet imported");
    }
}
