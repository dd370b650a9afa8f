package io.javastor.core.node;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What this agent knows of one node right now: liveness from heartbeats and the pools, replicas and
 * nexuses from its last poll. Never persisted: a new leader rebuilds it from heartbeats and polls.
 *
 * @param changes counts the changes folded in since the node became known (a pool created or destroyed, a replica
 *                created or destroyed, a nexus changed or gone), so a poll that read the node before one of them does
 *                not put back what the change replaced (see {@link #withPolledInventory})
 */
public record NodeState(String nodeId, String grpcEndpoint, NodeStatus status, List<PoolState> pools, List<ReplicaState> replicas,
                        List<NexusState> nexuses, long changes, Instant observedAt) {

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
        return new NodeState(nodeId, grpcEndpoint, s, pools, replicas, nexuses, changes, observedAt);
    }

    /** A change folded in: new pools and replicas (as the io-engine just answered); the nexuses stay as they are. */
    public NodeState withInventory(List<PoolState> p, List<ReplicaState> r, Instant at) {
        return new NodeState(nodeId, grpcEndpoint, status, p, r, nexuses, changes + 1, at);
    }

    /**
     * The result of a full poll whose reads started when {@link #changes()} was {@code changesBeforeRead}. If a change
     * was folded in meanwhile, the poll may predate it (a replica it lists may have been destroyed since, a new one
     * may be missing): this state is kept as it is, and the next poll reads everything again.
     */
    public NodeState withPolledInventory(long changesBeforeRead, List<PoolState> p, List<ReplicaState> r, List<NexusState> n, Instant at) {
        return changes == changesBeforeRead ? withInventory(p, r, n, at) : this;
    }

    /** A full read (or a reset, with EPOCH): pools, replicas and nexuses. */
    public NodeState withInventory(List<PoolState> p, List<ReplicaState> r, List<NexusState> n, Instant at) {
        return new NodeState(nodeId, grpcEndpoint, status, p, r, n, changes + 1, at);
    }

    /** One nexus changed (present: as now reported; absent: gone). */
    public NodeState withNexus(String uuid, Optional<NexusState> now) {
        List<NexusState> next = java.util.stream.Stream.concat(nexuses.stream().filter(x -> !x.uuid().equals(uuid)), now.stream()).toList();
        return new NodeState(nodeId, grpcEndpoint, status, pools, replicas, next, changes + 1, observedAt);
    }

    /**
     * Whether {@code other} says the same of the node as this, clocks aside: the time of its last heartbeat, of its last
     * poll and the count of changes folded in may differ. What a heartbeat or a poll that finds nothing new changes.
     */
    public boolean sameApartFromClocks(NodeState other) {
        return other != null && java.util.Objects.equals(nodeId, other.nodeId) && java.util.Objects.equals(grpcEndpoint, other.grpcEndpoint)
                && sameApartFromClocks(status, other.status) && inventoryKnown() == other.inventoryKnown()
                && pools.equals(other.pools) && replicas.equals(other.replicas) && nexuses.equals(other.nexuses);
    }

    private static boolean sameApartFromClocks(NodeStatus a, NodeStatus b) {
        if (a instanceof NodeStatus.Online x) {
            return b instanceof NodeStatus.Online y && x.instance().equals(y.instance());
        }
        if (a instanceof NodeStatus.Offline x) {
            return b instanceof NodeStatus.Offline y && x.reason().equals(y.reason());
        }
        return a == null || b == null ? a == b : a.getClass() == b.getClass();
    }

    public NodeState withEndpoint(String endpoint) {
        return new NodeState(nodeId, endpoint, status, pools, replicas, nexuses, changes, observedAt);
    }
}
