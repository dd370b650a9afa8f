package io.javastor.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** A full poll never puts back what a change folded in while the poll was reading replaced. */
class NodeStateTest {

    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");
    private static final Instant T1 = T0.plusSeconds(5);

    private final PoolState pool = new PoolState("pool-a", "node-1", List.of("uring:///dev/sdb"), PoolState.Health.ONLINE, 1 << 30, 0, 0);
    private final ReplicaState replica = new ReplicaState("r-1", "pool-a", "node-1", 1 << 20, false, "bdev:///r-1", 1 << 20, List.of());
    private final NexusState nexus = new NexusState("n-1", "node-1", 1 << 20, NexusState.Health.ONLINE, List.of(), "", List.of(), 0);

    private NodeState known() {
        return new NodeState("node-1", "127.0.0.1:1", new NodeStatus.Online(T0, ""), List.of(), List.of(), T0)
                .withInventory(List.of(pool), List.of(replica), List.of(nexus), T0);
    }

    @Test
    void aPollThatSawNoChangeReplacesTheInventory() {
        NodeState before = known();
        ReplicaState second = new ReplicaState("r-2", "pool-a", "node-1", 1 << 20, false, "bdev:///r-2", 0, List.of());

        NodeState after = before.withPolledInventory(before.changes(), List.of(pool), List.of(replica, second), List.of(), T1);

        assertThat(after.replicas()).extracting(ReplicaState::uuid).containsExactly("r-1", "r-2");
        assertThat(after.nexuses()).isEmpty();
        assertThat(after.observedAt()).isEqualTo(T1);
    }

    @Test
    void aReplicaDestroyedWhileThePollReadIsNotPutBack() {
        NodeState before = known();
        long pollStarted = before.changes();
        // the poll's listReplicas answered [r-1]; then r-1 was destroyed and that change folded in
        NodeState destroyed = before.withInventory(List.of(pool), List.of(), T0);

        NodeState after = destroyed.withPolledInventory(pollStarted, List.of(pool), List.of(replica), List.of(nexus), T1);

        assertThat(after.replicas()).isEmpty();
        assertThat(after).isSameAs(destroyed);
    }

    @Test
    void aPoolDestroyedOrANexusChangedWhileThePollReadIsNotPutBack() {
        NodeState before = known();
        long pollStarted = before.changes();
        NodeState poolGone = before.withInventory(List.of(), List.of(), T0);
        NodeState nexusGone = before.withNexus("n-1", Optional.empty());

        assertThat(poolGone.withPolledInventory(pollStarted, List.of(pool), List.of(replica), List.of(nexus), T1).pools()).isEmpty();
        assertThat(nexusGone.withPolledInventory(pollStarted, List.of(pool), List.of(replica), List.of(nexus), T1).nexuses()).isEmpty();
    }

    @Test
    void theNextPollAfterTheChangeLands() {
        NodeState changed = known().withInventory(List.of(pool), List.of(), T0);

        NodeState after = changed.withPolledInventory(changed.changes(), List.of(pool), List.of(replica), List.of(nexus), T1);

        assertThat(after.replicas()).extracting(ReplicaState::uuid).containsExactly("r-1");
        assertThat(after.observedAt()).isEqualTo(T1);
    }
}
