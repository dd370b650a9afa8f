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

import io.javastor.core.operation.CoreException;
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
 * A volume's set of replicas grown to or shrunk to a count: placement, creation, and removal of the least healthy.
 * Used by the volume's operations and by the reconcilers that repair a volume; the caller holds the volume's guard.
 */
public final class VolumeReplicas {

    private static final Logger log = LoggerFactory.getLogger(VolumeReplicas.class);

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final ReplicaPlacer placer;
    private final PlacementCandidates candidates;
    private final NodeRegistry registry;
    private final NexusOperations nexuses;

    public VolumeReplicas(SpecStore store, ReplicaOperations replicas, ReplicaPlacer placer, NodeRegistry registry,
                          NexusOperations nexuses) {
        this.store = store;
        this.replicas = replicas;
        this.placer = placer;
        this.candidates = new PlacementCandidates(store, registry);
        this.registry = registry;
        this.nexuses = nexuses;
    }

    /**
     * Brings the volume up to {@code target} live replicas: creates any left Creating, places the rest.
     * Returns the live replicas afterwards.
     */
    public List<Versioned<ReplicaSpec>> addUpTo(VolumeSpec spec, int target, List<Versioned<ReplicaSpec>> existing) {
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
        List<ReplicaSpec> wanted = place(spec, missing, usedNodes);
        if (spec.operation() == OperationStatus.CREATED) {
            // The volume may hold data: a new replica is empty until a target rebuilds it, and must never be served before.
            nexuses.info().outOfSync(spec.uuid(), wanted.stream().map(ReplicaSpec::uuid).toList());
        }
        live.addAll(replicas.realizeAll(replicas.intendAll(wanted)));
        return live;
    }

    /**
     * Chooses where {@code count} new replicas of the volume go (none on {@code usedNodes}), as Creating specs not yet
     * written; ResourceExhausted when the cluster cannot hold them.
     */
    public List<ReplicaSpec> place(VolumeSpec spec, int count, Set<String> usedNodes) {
        List<Candidate> chosen = placer.place(new PlacementRequest(spec.uuid(), spec.size(), spec.thin(), count,
                spec.topology().nodeLabels(), spec.topology().poolLabels(), usedNodes), candidates.forGroup(spec.affinityGroup()));
        return chosen.stream().map(c -> new ReplicaSpec(UUID.randomUUID().toString(), c.poolId(), c.nodeId(),
                spec.size(), spec.thin(), spec.uuid(), OperationStatus.CREATING)).toList();
    }

    /** Removes the volume's Created replicas beyond {@code keep}, the least healthy first. */
    public void removeDownTo(String uuid, int keep) {
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
