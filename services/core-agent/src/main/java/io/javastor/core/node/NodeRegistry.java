package io.javastor.core.node;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/** The observed state of every node known to this agent, in memory only. */
public final class NodeRegistry {

    private final ConcurrentHashMap<String, NodeState> nodes = new ConcurrentHashMap<>();
    /** Changes begun and changes done: a change is visible from its start, so its count alone cannot tell it. */
    private final AtomicLong begun = new AtomicLong();
    private final AtomicLong done = new AtomicLong();

    /**
     * How many changes of any node's state were made, when none is under way; empty while one is (its effect may be
     * visible already). A reader that found a count sees every change it counts, so an answer built from the nodes'
     * states after a count was read may be given again to a reader that finds the same count. A change that moves only
     * a node's clocks ({@link NodeState#sameApartFromClocks}: a heartbeat, or a poll that found nothing new, every few
     * seconds from every node) is not counted, so answers built on anything but those clocks stay good across it.
     */
    public OptionalLong settledChanges() {
        long b = begun.get();
        long d = done.get(); // read after: equal means every change begun before the first read is done
        return b == d ? OptionalLong.of(d) : OptionalLong.empty();
    }

    /** The state of one node before and after a change (null: unknown). */
    private record Change(NodeState before, NodeState after) {}

    /**
     * Changes one node's state ({@code change} gets null when the node is unknown, and returning null leaves or makes
     * it unknown). Counted as {@link #counted} does, except when it moved nothing but clocks: then the count it began is
     * taken back, and a reader that saw it begun only missed one answer it could have reused.
     */
    private Change changeOne(String nodeId, UnaryOperator<NodeState> change) {
        NodeState[] before = new NodeState[1];
        boolean[] moved = {true};
        begun.incrementAndGet();
        try {
            NodeState after = nodes.compute(nodeId, (id, old) -> {
                before[0] = old;
                NodeState next = change.apply(old);
                moved[0] = next == null ? old != null : !next.sameApartFromClocks(old);
                return next;
            });
            return new Change(before[0], after);
        } finally {
            if (moved[0]) {
                done.incrementAndGet();
            } else {
                begun.decrementAndGet();
            }
        }
    }

    private <T> T counted(Supplier<T> body) {
        begun.incrementAndGet();
        try {
            return body.get();
        } finally {
            done.incrementAndGet();
        }
    }

    public Optional<NodeState> get(String nodeId) {
        return Optional.ofNullable(nodes.get(nodeId));
    }

    public Collection<NodeState> all() {
        return List.copyOf(nodes.values());
    }

    /** Makes the node known (status Unknown) without touching what is already observed. */
    public NodeState know(String nodeId, String grpcEndpoint) {
        return changeOne(nodeId, old -> old == null
                ? new NodeState(nodeId, grpcEndpoint, new NodeStatus.Unknown(), List.of(), List.of(), Instant.EPOCH)
                : old.withEndpoint(grpcEndpoint)).after();
    }

    /** Atomically changes one node's state; returns the state before the change (null if it was unknown). */
    public NodeState update(String nodeId, UnaryOperator<NodeState> change) {
        return changeOne(nodeId, old -> old == null ? null : change.apply(old)).before();
    }

    public void forget(String nodeId) {
        counted(() -> nodes.remove(nodeId));
    }

    /** Drops everything: a newly elected leader starts from specs and fresh heartbeats. */
    public void clear() {
        counted(() -> {
            nodes.clear();
            return null;
        });
    }
}
