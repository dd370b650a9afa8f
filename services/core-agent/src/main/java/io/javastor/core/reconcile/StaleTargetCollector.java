package io.javastor.core.reconcile;

import java.util.HashSet;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A volume's old target that an Online node still runs (its target moved away while the node was cut off, not dead)
 * is destroyed: the fence already keeps it off the replicas, but it still holds a path hosts may try, and memory.
 * Only nexuses of volume targets whose spec names another node; nexuses outside volumes are their user's.
 */
public final class StaleTargetCollector implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(StaleTargetCollector.class);

    private final SpecStore store;
    private final NexusOperations nexuses;
    private final OperationGuard volumeGuard;
    private final NodeRegistry registry;

    public StaleTargetCollector(SpecStore store, NexusOperations nexuses, OperationGuard volumeGuard, NodeRegistry registry) {
        this.store = store;
        this.nexuses = nexuses;
        this.volumeGuard = volumeGuard;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "stale-target-collector";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Set<String> stale = new HashSet<>();
        for (NodeState node : registry.all()) {
            if (!node.status().isOnline()) {
                continue;
            }
            for (NexusState n : node.nexuses()) {
                store.get(NexusSpec.KIND, n.uuid()).map(Versioned::spec)
                        .filter(spec -> spec.ofVolume() && !spec.nodeId().equals(node.nodeId()))
                        .ifPresent(spec -> stale.add(n.uuid()));
            }
        }
        boolean busy = false;
        for (String volume : stale) {
            OperationGuard.Held held = volumeGuard.tryAcquire(volume);
            if (held == null) {
                busy = true; // an operation on the volume is under way: next pass
                continue;
            }
            try (held) {
                nexuses.shutdownStaleTargets(volume, "its target is on another node");
            } catch (CoreException e) {
                busy = true;
                log.warn("stale target not destroyed volumeId={}: {}", volume, e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "stale targets remain");
    }
}
