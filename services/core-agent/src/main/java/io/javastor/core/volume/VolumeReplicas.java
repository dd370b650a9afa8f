package io.javastor.core.volume;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusInfo;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.placement.Candidate;
import io.javastor.core.placement.PlacementRequest;
import io.javastor.core.placement.ReplicaPlacer;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A volume's set of replicas: placing and creating new ones, removing the least healthy, and replacing lost or gone
 * ones in its target. Used by the volume operations (create, replica count) and by the reconcilers that keep the set
 * whole (ExtraReplicaReconciler, LostReplicaReplacer, FaultedChildHealer). Every method expects the caller to hold the
 * volume's guard.
 */
public final class VolumeReplicas {
    private static final Logger log = LoggerFactory.getLogger(VolumeReplicas.class);

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final ReplicaPlacer placer;
    private final PlacementCandidates candidates;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final NexusOperations nexuses;

    public VolumeReplicas(SpecStore store, ReplicaOperations replicas, ReplicaPlacer placer, NodeRegistry registry, EventHistory events,
                          NexusOperations nexuses) {
        this.store = store;
        this.replicas = replicas;
        this.placer = placer;
        this.candidates = new PlacementCandidates(store, registry);
        this.registry = registry;
        this.events = events;
        this.nexuses = nexuses;
    }

    /**
     * Brings the volume up to {@code target} live replicas: creates any left Creating, places the rest.
     * Returns the live replicas afterwards.
     */
    public List<Versioned<ReplicaSpec>> addReplicas(VolumeSpec spec, int target, List<Versioned<ReplicaSpec>> existing) {
        List<Versioned<ReplicaSpec>> live = new ArrayList<>();
        List<Versioned<ReplicaSpec>> unfinished = new ArrayList<>();
        Set<String> usedNodes = new HashSet<>();
        for (Versioned<ReplicaSpec> r : existing) {
            if (r.spec().operation() == OperationStatus.DELETING) {
                continue;
            }
            usedNodes.add(r.spec().nodeId());
            if (r.spec().operation() == OperationStatus.CREATING) {
                unfinished.add(r);
            } else {
                live.add(r);
            }
        }
        live.addAll(replicas.realizeAll(unfinished));
        int missing = target - live.size();
        if (missing <= 0) {
            return live;
        }
        List<Candidate> chosen = placer.place(new PlacementRequest(spec.uuid(), spec.size(), spec.thin(), missing,
                spec.topology().nodeLabels(), spec.topology().poolLabels(), usedNodes), candidates.forGroup(spec.affinityGroup()));
        List<ReplicaSpec> wanted = chosen.stream().map(c -> new ReplicaSpec(UUID.randomUUID().toString(), c.poolId(), c.nodeId(),
                spec.size(), spec.thin(), spec.uuid(), OperationStatus.CREATING)).toList();
        if (spec.operation() == OperationStatus.CREATED) {
            // The volume may hold data: a new replica is empty until a target rebuilds it, and must never be served before.
            nexuses.info().outOfSync(spec.uuid(), wanted.stream().map(ReplicaSpec::uuid).toList());
        }
        live.addAll(replicas.realizeAll(replicas.intendAll(wanted)));
        return live;
    }

    /**
     * Removes Created replicas beyond the volume's replica count (a scale-down cut short by a crash
     * after the spec changed). Caller holds the guard. Returns how many were removed.
     */
    public int trimExtraReplicas(VolumeSpec spec) {
        long created = replicas.ofVolume(spec.uuid()).stream().filter(r -> r.spec().operation() == OperationStatus.CREATED).count();
        if (created <= spec.replicaCount()) {
            return 0;
        }
        removeReplicas(spec.uuid(), spec.replicaCount());
        events.record("volume", spec.uuid(), "VolumeReplicasTrimmed", Severity.INFO,
                (created - spec.replicaCount()) + " replica(s) beyond the replica count " + spec.replicaCount() + " removed");
        return (int) (created - spec.replicaCount());
    }

    /**
     * A published volume whose replica sits on an Offline node gets it replaced: the lost child
     * leaves the nexus, its spec waits Deleting for the node, a new replica is placed on another
     * node and added to the nexus, which rebuilds it from the healthy children. Caller holds the
     * guard. Returns how many were replaced.
     */
    public int replaceLostReplicas(VolumeSpec spec) {
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
        for (Versioned<ReplicaSpec> r : addReplicas(spec, spec.replicaCount(), existing)) {
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
     * as for a lost one. Caller holds the guard. Returns how many replicas were placed.
     */
    public int replaceGoneReplica(VolumeSpec spec, String replicaUuid) {
        Optional<Versioned<NexusSpec>> target = nexuses.of(spec.uuid()).filter(n -> n.spec().operation() == OperationStatus.CREATED);
        if (target.isPresent()) {
            nexuses.removeChild(target.get(), replicaUuid);
        }
        store.get(ReplicaSpec.KIND, replicaUuid).ifPresent(this::destroyOrDefer);
        nexuses.info().retired(spec.uuid(), replicaUuid);
        return replaceLostReplicas(spec);
    }

    private boolean nodeOnline(String nodeId) {
        return registry.get(nodeId).map(n -> n.status().isOnline()).orElse(false);
    }

    private boolean nodeOffline(String nodeId) {
        return registry.get(nodeId).map(n -> n.status() instanceof io.javastor.core.node.NodeStatus.Offline).orElse(false);
    }

    /**
     * Keeps {@code keep} of the volume's Created replicas: the rest leave the target first, then are destroyed (or
     * left Deleting when their node is not Online).
     */
    public void removeReplicas(String uuid, int keep) {
        List<Versioned<ReplicaSpec>> live = new ArrayList<>(replicas.ofVolume(uuid).stream()
                .filter(r -> r.spec().operation() == OperationStatus.CREATED).toList());
        Map<String, Integer> perNode = new HashMap<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            perNode.merge(r.spec().nodeId(), 1, Integer::sum);
        }
        NexusInfo info = nexuses.info().of(uuid);
        String targetNode = nexuses.of(uuid).map(n -> n.spec().nodeId()).orElse("");
        // First to go: not seen on its node, then out of sync (it holds the least), then away from the target (the
        // target's local replica is its fastest child), then on the busiest node.
        live.sort(Comparator.<Versioned<ReplicaSpec>, Boolean>comparing(r -> VolumeViews.observed(registry, r.spec()).isPresent())
                .thenComparing(r -> info.inSync(r.spec().uuid()))
                .thenComparing(r -> r.spec().nodeId().equals(targetNode))
                .thenComparing(r -> -perNode.getOrDefault(r.spec().nodeId(), 0))
                .thenComparing(r -> r.spec().uuid()));
        for (int i = 0; i < live.size() - keep; i++) {
            // Out of the nexus first: a child must not vanish under a live target.
            Optional<Versioned<NexusSpec>> target = nexuses.of(uuid);
            if (target.isPresent()) {
                nexuses.removeChild(target.get(), live.get(i).spec().uuid());
            }
            destroyOrDefer(live.get(i));
        }
    }

    /** Destroys a replica now, or (node unreachable) leaves its spec Deleting for the reconciler. */
    public void destroyOrDefer(Versioned<ReplicaSpec> r) {
        boolean reachable = registry.get(r.spec().nodeId()).map(n -> n.status().isOnline()).orElse(false);
        if (!reachable) {
            replicas.markDeleting(r);
            log.warn("replica left Deleting: node not Online uuid={} nodeId={}", r.spec().uuid(), r.spec().nodeId());
            return;
        }
        try {
            replicas.destroy(r);
        } catch (CoreException.Unavailable e) {
            store.get(ReplicaSpec.KIND, r.spec().uuid()).ifPresent(replicas::markDeleting);
            log.warn("replica left Deleting: {} uuid={}", e.getMessage(), r.spec().uuid());
        }
    }
}
