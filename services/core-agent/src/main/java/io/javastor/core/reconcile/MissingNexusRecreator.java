package io.javastor.core.reconcile;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeSpec;

/**
 * A published volume whose target's io-engine runs no nexus for it (the process restarted: nexuses are not
 * persistent) gets it re-created on the same node, so hosts reconnecting to the same address carry on. What runs
 * where is the observed inventory (the state poller's, with every nexus change folded in as it is made): no node
 * calls of its own to find out.
 */
public final class MissingNexusRecreator implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(MissingNexusRecreator.class);

    private final SpecStore store;
    private final NexusOperations nexuses;
    private final ReplicaOperations replicas;
    private final OperationGuard volumeGuard;
    private final NodeRegistry registry;

    public MissingNexusRecreator(SpecStore store, NexusOperations nexuses, ReplicaOperations replicas, OperationGuard volumeGuard,
                                 NodeRegistry registry) {
        this.store = store;
        this.nexuses = nexuses;
        this.replicas = replicas;
        this.volumeGuard = volumeGuard;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "missing-nexus-recreator";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Map<String, List<Versioned<NexusSpec>>> byNode = nexuses.volumeTargetsByNode();
        boolean busy = false;
        for (var entry : byNode.entrySet()) {
            String nodeId = entry.getKey();
            // Only a node whose pools are imported again can give its local replicas back to a new nexus.
            if (!registry.get(nodeId).map(s -> s.status().isOnline() && s.inventoryKnown()).orElse(false)) {
                continue;
            }
            Set<String> running = runningOn(nodeId);
            for (Versioned<NexusSpec> n : entry.getValue()) {
                if (!running.contains(n.spec().uuid())) {
                    busy |= !recreate(n.spec().uuid(), nodeId);
                }
            }
        }
        return ReconcileOutcome.busyIf(busy, "targets to re-create remain");
    }

    /** The nexuses the node's inventory lists (empty for a node not known now). */
    private Set<String> runningOn(String nodeId) {
        return registry.get(nodeId).map(NodeState::nexuses).orElse(List.of()).stream().map(NexusState::uuid).collect(Collectors.toSet());
    }

    /** One volume, under its guard, looking again now that nothing else can change it. Returns whether it is done. */
    private boolean recreate(String uuid, String nodeId) {
        OperationGuard.Held held = volumeGuard.tryAcquire(uuid);
        if (held == null) {
            return false;
        }
        try (held) {
            var nexus = store.get(NexusSpec.KIND, uuid);
            var volume = store.get(VolumeSpec.KIND, uuid);
            if (nexus.isEmpty() || nexus.get().spec().operation() != OperationStatus.CREATED || !nexus.get().spec().nodeId().equals(nodeId)
                    || volume.isEmpty() || volume.get().spec().operation() != OperationStatus.CREATED || runningOn(nodeId).contains(uuid)
                    || !registry.get(nodeId).map(s -> s.status().isOnline() && s.inventoryKnown()).orElse(false)) {
                return true;
            }
            log.warn("target missing on its node volumeId={} nodeId={}: re-creating", uuid, nodeId);
            return nexuses.recreate(nexus.get(), volume.get().spec().size(), replicas.ofVolume(uuid));
        } catch (CoreException e) {
            log.warn("re-creating target failed volumeId={} nodeId={}: {}", uuid, nodeId, e.getMessage());
            return false;
        }
    }
}
