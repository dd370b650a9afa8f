package io.javastor.core.node;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/** The observed state of every node known to this agent, in memory only. */
public final class NodeRegistry {

    private final ConcurrentHashMap<String, NodeState> nodes = new ConcurrentHashMap<>();
    /** Counts the changes, each counted once it is visible: a reader that saw a count sees at least those changes. */
    private final AtomicLong changes = new AtomicLong();

    /** How many times any node's state changed (or may have): equal counts, the same states. */
    public long changes() {
        return changes.get();
    }

    public Optional<NodeState> get(String nodeId) {
        return Optional.ofNullable(nodes.get(nodeId));
    }

    public Collection<NodeState> all() {
        return List.copyOf(nodes.values());
    }

    /** Makes the node known (status Unknown) without touching what is already observed. */
    public NodeState know(String nodeId, String grpcEndpoint) {
        NodeState now = nodes.compute(nodeId, (id, old) -> old == null
                ? new NodeState(id, grpcEndpoint, new NodeStatus.Unknown(), List.of(), List.of(), Instant.EPOCH)
                : old.withEndpoint(grpcEndpoint));
        changes.incrementAndGet();
        return now;
    }

    /** Atomically changes one node's state; returns the state before the change (null if it was unknown). */
    public NodeState update(String nodeId, UnaryOperator<NodeState> change) {
        NodeState[] before = new NodeState[1];
        nodes.computeIfPresent(nodeId, (id, old) -> {
            before[0] = old;
            return change.apply(old);
        });
        changes.incrementAndGet();
        return before[0];
    }

    public void forget(String nodeId) {
        nodes.remove(nodeId);
        changes.incrementAndGet();
    }

    /** Drops everything: a newly elected leader starts from specs and fresh heartbeats. */
    public void clear() {
        nodes.clear();
        changes.incrementAndGet();
    }
}
