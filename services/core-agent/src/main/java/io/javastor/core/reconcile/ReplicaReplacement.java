package io.javastor.core.reconcile;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeReplicas;
import io.javastor.core.volume.VolumeSpec;

/**
 * A published volume's lost replicas replaced: the lost child leaves the target, a new replica is placed on another
 * node and added to the target, which rebuilds it from the healthy children. For {@link LostReplicaReplacer} (a
 * replica on an Offline node) and {@link FaultedChildHealer} (a replica its Online node no longer has). Caller holds
 * the volume's guard.
 */
final class ReplicaReplacement {

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final VolumeReplicas volumeReplicas;
    private final NexusOperations nexuses;
    private final NodeRegistry registry;
    private final EventHistory events;

    ReplicaReplacement(SpecStore store, ReplicaOperations replicas, VolumeReplicas volumeReplicas, NexusOperations nexuses,
                       NodeRegistry registry, EventHistory events) {
        this.store = store;
        this.replicas = replicas;
        this.volumeReplicas = volumeReplicas;
        this.nexuses = nexuses;
        this.registry = registry;
        this.events = events;
    }

    /**
     * A published volume whose replica sits on an Offline node gets it replaced: the lost child
     * leaves the nexus, its spec waits Deleting for the node, a new replica is placed on another
     * node and added to the nexus, which rebuilds it from the healthy children. Returns how many were replaced.
     */
    int replaceLost(VolumeSpec spec) {
        Optional<Versioned<NexusSpec>> target = nexuses.of(spec.uuid()).filter(n -> n.spec().operation() == OperationStatus.CREATED);
        if (target.isEmpty() || !nodeOnline(target.get().spec().nodeId())) {
            return 0; // no target to rebuild from (a lost target is the HA work's to move)
        }
        Versioned<NexusSpec> t = target.get();
        int lost = 0;
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(spec.uuid())) {
            if (r.spec().operation() == OperationStatus.CREATED && nodeOffline(r.spec().nodeId())) {
                t = nexuses.removeChild(t, r.spec().uuid());
                replicas.markDeleting(r);
                // Never served again: what targets said about it must not keep the volume's record out of sync.
                nexuses.info().retired(spec.uuid(), r.spec().uuid());
                events.record("replica", r.spec().uuid(), "ReplicaLost", Severity.WARNING, "node " + r.spec().nodeId()
                        + " is Offline; replica of volume " + spec.uuid() + " retired and will be replaced");
                lost++;
            }
        }
        List<Versioned<ReplicaSpec>> existing = replicas.ofVolume(spec.uuid());
        long live = existing.stream().filter(r -> r.spec().operation() != OperationStatus.DELETING).count();
        if (lost == 0 && live >= spec.replicaCount()) {
            return 0;
        }
        // Also when nothing was lost just now: a replacement that found no room before is placed once there is.
        Set<String> before = new HashSet<>(existing.stream().map(r -> r.spec().uuid()).toList());
        for (Versioned<ReplicaSpec> r : volumeReplicas.addUpTo(spec, spec.replicaCount(), existing)) {
            if (!before.contains(r.spec().uuid())) {
                t = nexuses.addChild(t, r.spec());
                events.record("volume", spec.uuid(), "ReplicaReplaced", Severity.INFO, "new replica " + r.spec().uuid()
                        + " on node " + r.spec().nodeId() + " replaces a lost one");
                lost = Math.max(lost, 1);
            }
        }
        return lost;
    }

    /**
     * A replica its Online node no longer has though its pool is there (lost with its data, so re-creating it empty
     * under the same uuid would hide that): it leaves the target, is retired, and a new replica is placed and rebuilt
     * as for a lost one. Returns how many replicas were placed.
     */
    int replaceGone(VolumeSpec spec, String replicaUuid) {
        Optional<Versioned<NexusSpec>> target = nexuses.of(spec.uuid()).filter(n -> n.spec().operation() == OperationStatus.CREATED);
        if (target.isPresent()) {
            nexuses.removeChild(target.get(), replicaUuid);
        }
        store.get(ReplicaSpec.KIND, replicaUuid).ifPresent(volumeReplicas::destroyOrDefer);
        nexuses.info().retired(spec.uuid(), replicaUuid);
        return replaceLost(spec);
    }

    private boolean nodeOnline(String nodeId) {
        return registry.get(nodeId).map(n -> n.status().isOnline()).orElse(false);
    }

    private boolean nodeOffline(String nodeId) {
        return registry.get(nodeId).map(n -> n.status() instanceof NodeStatus.Offline).orElse(false);
    }
}
