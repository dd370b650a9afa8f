package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link PoolSpecRecovery}, driven step by step: a pool left Creating (the user asked for it; its create was cut short
 * before the node made it) is made on its node and Created; a pool left Deleting is destroyed there and its spec goes.
 */
class PoolSpecRecoveryTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static boolean onNode(String node, String pool) {
        return driven.cluster().node(node).api().pools().listPools(ListPoolsRequest.newBuilder().build()).getPoolsList().stream()
                .anyMatch(p -> p.getName().equals(pool));
    }

    @Test
    void aPoolLeftCreatingIsMadeAndOneLeftDeletingIsDestroyed() {
        SpecStore specs = driven.cluster().specs();
        String pool = "pool-recovered";
        String disk = "uring://" + driven.cluster().dir().resolve("recovered.img") + "?size_mb=32";
        specs.create(PoolSpec.KIND, new PoolSpec(pool, "node-1", List.of(disk), Map.of(), OperationStatus.CREATING, false));
        PoolSpecRecovery recovery = driven.reconciler(PoolSpecRecovery.class);

        await("pool made").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE
                        && specs.get(PoolSpec.KIND, pool).orElseThrow().spec().operation() == OperationStatus.CREATED);
        assertThat(onNode("node-1", pool)).as("made on its node").isTrue();

        var created = specs.get(PoolSpec.KIND, pool).orElseThrow();
        specs.update(PoolSpec.KIND, created, created.spec().with(OperationStatus.DELETING));
        await("pool destroyed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE && specs.get(PoolSpec.KIND, pool).isEmpty());
        assertThat(onNode("node-1", pool)).as("destroyed on its node").isFalse();
        assertThat(recovery.reconcile()).as("nothing left half-done").isEqualTo(ReconcileOutcome.IDLE);
    }
}
