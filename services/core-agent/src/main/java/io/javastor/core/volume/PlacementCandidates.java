package io.javastor.core.volume;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.PoolState;
import io.javastor.core.placement.Candidate;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/** Builds the placement candidates from the specs (what exists by intent) and the registry (what is observed now). */
final class PlacementCandidates {

    private final SpecStore store;
    private final NodeRegistry registry;

    PlacementCandidates(SpecStore store, NodeRegistry registry) {
        this.store = store;
        this.registry = registry;
    }

    List<Candidate> forGroup(String affinityGroup) {
        Map<String, NodeSpec> nodes = new HashMap<>();
        for (Versioned<NodeSpec> n : store.list(NodeSpec.KIND)) {
            nodes.put(n.spec().id(), n.spec());
        }
        Set<String> groupVolumes = new HashSet<>();
        if (!affinityGroup.isEmpty()) {
            for (Versioned<VolumeSpec> v : store.list(VolumeSpec.KIND)) {
                if (affinityGroup.equals(v.spec().affinityGroup())) {
                    groupVolumes.add(v.spec().uuid());
                }
            }
        }
        Map<String, Integer> replicasPerNode = new HashMap<>();
        Map<String, Integer> groupPerNode = new HashMap<>();
        for (Versioned<ReplicaSpec> r : store.list(ReplicaSpec.KIND)) {
            replicasPerNode.merge(r.spec().nodeId(), 1, Integer::sum);
            if (groupVolumes.contains(r.spec().volumeId())) {
                groupPerNode.merge(r.spec().nodeId(), 1, Integer::sum);
            }
        }
        List<Candidate> out = new ArrayList<>();
        for (Versioned<PoolSpec> p : store.list(PoolSpec.KIND)) {
            PoolSpec pool = p.spec();
            NodeSpec node = nodes.get(pool.nodeId());
            Optional<NodeState> state = registry.get(pool.nodeId());
            Optional<PoolState> observed = state.flatMap(s -> s.pools().stream().filter(x -> x.id().equals(pool.id())).findFirst());
            boolean poolOnline = pool.operation() == OperationStatus.CREATED
                    && observed.map(o -> o.health() == PoolState.Health.ONLINE).orElse(false);
            out.add(new Candidate(pool.nodeId(), state.map(s -> s.status().isOnline()).orElse(false),
                    node != null && node.cordoned(), node == null ? Map.of() : node.labels(),
                    pool.id(), poolOnline, pool.labels(),
                    observed.map(PoolState::capacity).orElse(0L), observed.map(PoolState::used).orElse(0L),
                    observed.map(PoolState::committed).orElse(0L),
                    replicasPerNode.getOrDefault(pool.nodeId(), 0), groupPerNode.getOrDefault(pool.nodeId(), 0)));
        }
        return out;
    }
}
