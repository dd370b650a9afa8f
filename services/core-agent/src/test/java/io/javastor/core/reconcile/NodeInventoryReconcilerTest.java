package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.MovableClock;

/**
 * {@link NodeInventoryReconciler}, driven step by step with a clock the test moves: every Online node's pools and replicas
 * are read once per interval and not in between, and a node that has just come Online is read at once. A cluster of its
 * own (one io-engine, no pools made through the agent) whose loop leaves the inventory alone, so what the agent knows
 * of the node is what this test's passes read; the node is restarted here, which the shared cluster's tests must not see.
 */
class NodeInventoryReconcilerTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final long MIB = 1 << 20;
    private static final Duration EVERY = Duration.ofSeconds(30);
    private static TestCluster cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("node-inventory", "agent-node-inventory", Map.of(
                "javastor.core.reconcile.disabled", "node-inventory",
                // A killed node goes Offline within seconds, so its restart counts as coming Online again.
                "javastor.core.nodes.heartbeat-timeout", "3s"), 1, 0, Map.of()));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static NodeState node() {
        return cluster.agent().bean(NodeRegistry.class).get("node-1").orElseThrow();
    }

    private static boolean knows(String replica) {
        return node().replicas().stream().anyMatch(r -> r.uuid().equals(replica));
    }

    @Test
    void onlineNodesAreReadOncePerIntervalAndANodeJustOnlineAtOnce() throws Exception {
        IoEngineProcess engine = cluster.node("node-1");
        assertThat(node().inventoryKnown()).as("nothing has read the node yet").isFalse();
        // Made on the engine behind the agent's back: only a read of the node shows them.
        String pool = "inventory-pool";
        engine.api().pools().createPool(CreatePoolRequest.newBuilder().setName(pool)
                .addDisks("uring://" + cluster.dir().resolve("inventory.img") + "?size_mb=32").build());
        String first = UUID.randomUUID().toString();
        engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(first).setPool(pool).setSize(4 * MIB).build());

        MovableClock clock = new MovableClock(Instant.now());
        NodeInventoryReconciler inventory = new NodeInventoryReconciler(cluster.agent().bean(NodeStatePoller.class), clock, EVERY);
        assertThat(inventory.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(node().inventoryKnown()).as("the first pass reads every Online node").isTrue();
        assertThat(node().pools()).extracting(p -> p.id()).containsExactly(pool);
        assertThat(knows(first)).isTrue();

        String second = UUID.randomUUID().toString();
        engine.api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(second).setPool(pool).setSize(4 * MIB).build());
        clock.move(EVERY.minusSeconds(1));
        assertThat(inventory.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(knows(second)).as("inside the interval a node already read is not read again").isFalse();
        clock.move(Duration.ofSeconds(1));
        assertThat(inventory.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(knows(second)).as("read again once the interval is over").isTrue();

        // Killed and started again: Offline, then Online with nothing known of it, read on the next pass though it is
        // inside the interval. The restarted engine has not imported its pool, and the agent's view says so.
        engine.kill9();
        await("node-1 Offline").atMost(Duration.ofSeconds(60)).until(() -> node().status() instanceof NodeStatus.Offline);
        engine.start();
        cluster.awaitOnline("node-1");
        assertThat(node().inventoryKnown()).as("came Online: not read yet").isFalse();
        clock.move(Duration.ofSeconds(1));
        assertThat(inventory.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(node().inventoryKnown()).as("a node just Online is read at once").isTrue();
        assertThat(node().pools()).as("what the restarted engine reports").isEmpty();
        assertThat(knows(first)).isFalse();
    }
}
