package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.DestroyPoolRequest;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.ioengine.v1.ExportPoolRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.core.testsupport.TestCluster;

/**
 * {@link PoolImportReconciler}, driven step by step: a Created pool its node stops reporting (the io-engine forgot it,
 * as after a restart; here it is exported behind the agent's back) is imported from its disk once, and reported again;
 * a pool its node reports is left alone.
 */
class PoolImportReconcilerTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static boolean onNode(String node, String pool) {
        return driven.cluster().node(node).api().pools().listPools(ListPoolsRequest.newBuilder().setName(pool).build()).getPoolsCount() == 1;
    }

    private static boolean inInventory(String node, String pool) {
        return driven.cluster().agent().bean(NodeRegistry.class).get(node).orElseThrow().pools().stream().anyMatch(p -> p.id().equals(pool));
    }

    @Test
    void aPoolItsNodeForgotIsImportedFromItsDiskOnce() {
        var pools = PoolServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String node = "node-1";
        String pool = "pool-import-test";
        String disk = "uring://" + driven.cluster().dir().resolve("import-test.img") + "?size_mb=32";
        pools.createPool(CreatePoolRequest.newBuilder().setId(pool).setNodeId(node).addDisks(disk).build());
        await("inventory shows the pool").atMost(Duration.ofSeconds(30)).until(() -> inInventory(node, pool));
        PoolImportReconciler imports = driven.reconciler(PoolImportReconciler.class);
        assertThat(imports.reconcile()).as("every pool reported: nothing to import").isEqualTo(ReconcileOutcome.IDLE);

        driven.cluster().node(node).api().pools().exportPool(ExportPoolRequest.newBuilder().setName(pool).build());
        assertThat(onNode(node, pool)).as("exported: the engine no longer knows it").isFalse();
        await("inventory without the pool").atMost(Duration.ofSeconds(30)).until(() -> !inInventory(node, pool));

        assertThat(imports.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(onNode(node, pool)).as("imported from its disk").isTrue();
        assertThat(inInventory(node, pool)).as("the import's answer is the agent's view at once").isTrue();
        assertThat(driven.events(pool, "PoolImported")).isEqualTo(1);

        assertThat(imports.reconcile()).as("second pass").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.events(pool, "PoolImported")).as("imported once").isEqualTo(1);
        assertThat(driven.events(TestCluster.poolOf(node), "PoolImported")).as("the node's reported pool left alone").isZero();

        pools.destroyPool(DestroyPoolRequest.newBuilder().setId(pool).build());
    }
}
