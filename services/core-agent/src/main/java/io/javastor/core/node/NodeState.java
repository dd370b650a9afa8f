package io.javastor.core.node;

import java.time.Instant;
import java.util.List;

/**
 * What this agent knows of one node right now: liveness from heartbeats and the pools and
 * replicas from its last poll. Never persisted: a new leader rebuilds it from heartbeats and polls.
 */
public record NodeState(String nodeId, String grpcEndpoint, NodeStatus status, List<PoolState> pools, List<ReplicaState> replicas,
                        Instant observedAt) {

    public NodeState {
        pools = List.copyOf(pools);
        replicas = List.copyOf(replicas);
    }

    /** False until the pools and replicas have been read since the node (re)appeared. */
    public boolean inventoryKnown() {
        return !Instant.EPOCH.equals(observedAt);
    }

    public NodeState withStatus(NodeStatus s) {
        return new NodeState(nodeId, grpcEndpoint, s, pools, replicas, observedAt);
    }

    public NodeState withInventory(List<PoolState> p, List<ReplicaState> r, Instant at) {
        return new NodeState(nodeId, grpcEndpoint, status, p, r, at);
    }

    public NodeState withEndpoint(String endpoint) {
        return new NodeState(nodeId, endpoint, status, pools, replicas, observedAt);
    }
}
