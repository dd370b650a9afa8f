package io.javastor.core.node;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What this agent knows of one node right now: liveness from heartbeats and the pools, replicas and
 * nexuses from its last poll. Never persisted: a new leader rebuilds it from heartbeats and polls.
 *
 * @param nexusChanges counts the nexus changes folded in since the node became known, so a poll that read the
 *                     node's nexuses before one of them does not put back what the change replaced
 */
public record NodeState(String nodeId, String grpcEndpoint, NodeStatus status, List<PoolState> pools, List<ReplicaState> replicas,
                        List<NexusState> nexuses, long nexusChanges, Instant observedAt) {

    public NodeState {
        pools = List.copyOf(pools);
        replicas = List.copyOf(replicas);
        nexuses = List.copyOf(nexuses);
    }

    public NodeState(String nodeId, String grpcEndpoint, NodeStatus status, List<PoolState> pools, List<ReplicaState> replicas,
                     Instant observedAt) {
        this(nodeId, grpcEndpoint, status, pools, replicas, List.of(), 0, observedAt);
    }

    /** False until the pools, replicas and nexuses have been read since the node (re)appeared. */
    public boolean inventoryKnown() {
        return !Instant.EPOCH.equals(observedAt);
    }

    public Optional<NexusState> nexus(String uuid) {
        return nexuses.stream().filter(n -> n.uuid().equals(uuid)).findFirst();
    }

    public NodeState withStatus(NodeStatus s) {
        return new NodeState(nodeId, grpcEndpoint, s, pools, replicas, nexuses, nexusChanges, observedAt);
    }

    /** New pools and replicas; the nexuses stay as they are. */
    public NodeState withInventory(List<PoolState> p, List<ReplicaState> r, Instant at) {
        return new NodeState(nodeId, grpcEndpoint, status, p, r, nexuses, nexusChanges, at);
    }

    /** A full read (or a reset, with EPOCH): pools, replicas and nexuses. */
    public NodeState withInventory(List<PoolState> p, List<ReplicaState> r, List<NexusState> n, Instant at) {
        return new NodeState(nodeId, grpcEndpoint, status, p, r, n, nexusChanges + 1, at);
    }

    /** One nexus changed (present: as now reported; absent: gone). */
    public NodeState withNexus(String uuid, Optional<NexusState> now) {
        List<NexusState> next = java.util.stream.Stream.concat(nexuses.stream().filter(x -> !x.uuid().equals(uuid)), now.stream()).toList();
        return new NodeState(nodeId, grpcEndpoint, status, pools, replicas, next, nexusChanges + 1, observedAt);
    }

    public NodeState withEndpoint(String endpoint) {
        return new NodeState(nodeId, endpoint, status, pools, replicas, nexuses, nexusChanges, observedAt);
    }
}
