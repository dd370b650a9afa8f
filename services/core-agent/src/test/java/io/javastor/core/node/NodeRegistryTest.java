package io.javastor.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The registry's change count, which the agent keys its kept volume listing on. */
class NodeRegistryTest {

    @Test
    void noSettledCountWhileAChangeIsUnderWayAndANewOneAfterEach() {
        NodeRegistry registry = new NodeRegistry();
        long before = registry.settledChanges().orElseThrow();
        registry.know("node-1", "127.0.0.1:1");
        long known = registry.settledChanges().orElseThrow();
        assertThat(known).isGreaterThan(before);

        AtomicReference<OptionalLong> during = new AtomicReference<>();
        registry.update("node-1", s -> {
            during.set(registry.settledChanges()); // other readers may see the new state from here on
            return s.withStatus(new NodeStatus.Offline(java.time.Instant.EPOCH, "test"));
        });
        assertThat(during.get()).as("under way").isEmpty();
        long updated = registry.settledChanges().orElseThrow();
        assertThat(updated).isGreaterThan(known);

        registry.forget("node-1");
        assertThat(registry.settledChanges().orElseThrow()).isGreaterThan(updated);
        long forgotten = registry.settledChanges().orElseThrow();
        registry.clear();
        assertThat(registry.settledChanges().orElseThrow()).isGreaterThan(forgotten);
    }

    /**
     * Every node beats every few seconds and is polled as often: if each of those counted, an agent with many nodes
     * would hardly ever give a kept volume listing again. Only what the nodes report counts, not when they reported it.
     */
    @Test
    void heartbeatsAndPollsThatFindNothingNewLeaveTheCountAndRealChangesMoveIt() {
        NodeRegistry registry = new NodeRegistry();
        Instant t0 = Instant.parse("2026-12-08T00:00:00Z");
        ReplicaState r1 = new ReplicaState("r-1", "pool-1", "node-1", 1 << 20, false, "bdev:///r-1", 1 << 20, List.of());
        registry.know("node-1", "127.0.0.1:1");
        registry.update("node-1", s -> s.withStatus(new NodeStatus.Online(t0, "instance-a")));
        registry.update("node-1", s -> s.withPolledInventory(s.changes(), List.of(), List.of(r1), List.of(), t0));
        long settled = registry.settledChanges().orElseThrow();

        for (int beat = 1; beat <= 3; beat++) {
            Instant t = t0.plusSeconds(beat);
            registry.know("node-1", "127.0.0.1:1");
            registry.update("node-1", s -> s.withStatus(new NodeStatus.Online(t, "instance-a")));
            registry.update("node-1", s -> s.withPolledInventory(s.changes(), List.of(), List.of(r1), List.of(), t));
            assertThat(registry.settledChanges()).as("beat %d: only clocks moved", beat).hasValue(settled);
        }
        assertThat(registry.get("node-1").orElseThrow().observedAt()).as("the clocks themselves are kept").isEqualTo(t0.plusSeconds(3));
        AtomicReference<OptionalLong> duringBeat = new AtomicReference<>();
        registry.update("node-1", s -> {
            duringBeat.set(registry.settledChanges()); // not known yet to be only a beat: no count to reuse meanwhile
            return s.withStatus(new NodeStatus.Online(t0.plusSeconds(4), "instance-a"));
        });
        assertThat(duringBeat.get()).as("a beat under way").isEmpty();
        assertThat(registry.settledChanges()).as("after the beat").hasValue(settled);
        registry.update("node-unknown", s -> s.withStatus(new NodeStatus.Offline(t0, "gone")));
        assertThat(registry.settledChanges()).as("a change to a node this agent does not know").hasValue(settled);

        ReplicaState r2 = new ReplicaState("r-2", "pool-1", "node-1", 1 << 20, false, "bdev:///r-2", 1 << 20, List.of());
        registry.update("node-1", s -> s.withPolledInventory(s.changes(), List.of(), List.of(r1, r2), List.of(), t0.plusSeconds(4)));
        long replicaAdded = registry.settledChanges().orElseThrow();
        assertThat(replicaAdded).as("a poll that found a new replica").isGreaterThan(settled);
        registry.update("node-1", s -> s.withStatus(new NodeStatus.Online(t0.plusSeconds(5), "instance-b")));
        long restarted = registry.settledChanges().orElseThrow();
        assertThat(restarted).as("a new io-engine instance").isGreaterThan(replicaAdded);
        registry.update("node-1", s -> s.withStatus(new NodeStatus.Offline(t0.plusSeconds(6), "missed heartbeats")));
        long offline = registry.settledChanges().orElseThrow();
        assertThat(offline).as("the node went offline").isGreaterThan(restarted);
        registry.know("node-1", "127.0.0.1:2");
        assertThat(registry.settledChanges().orElseThrow()).as("a new endpoint").isGreaterThan(offline);
    }
}
