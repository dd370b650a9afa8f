package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.DrainNodeRequest;
import io.javastor.api.core.v1.DrainState;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.UncordonNodeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link DrainTargetMover}, driven step by step: a drained node's volume target moves to another node (the old one
 * shut down first) and the node then reports Drained; a node that is not drained keeps its targets.
 */
class DrainTargetMoverTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;
    private static final String DRAIN_LABEL = "drain-target-mover-test";

    @Test
    void aDrainedNodesTargetMovesAwayAndTheNodeReportsDrained() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        var nodes = NodeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2).build());
        volumes.publishVolume(AppHost.TEST_HOST.publish(uuid).setPreferredNodeId("node-1").build());
        assertThat(driven.nexusOnNode("node-1", uuid)).isTrue();
        DrainTargetMover mover = driven.reconciler(DrainTargetMover.class);
        assertThat(mover.reconcile()).as("no node drained: nothing moves").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.nexusOnNode("node-1", uuid)).isTrue();

        nodes.drainNode(DrainNodeRequest.newBuilder().setId("node-1").setLabel(DRAIN_LABEL).build());
        try {
            assertThat(nodes.getNode(GetNodeRequest.newBuilder().setId("node-1").build()).getDrainState())
                    .isEqualTo(DrainState.DRAIN_STATE_DRAINING);
            // The agent's store may see the drain label a moment after the API wrote it.
            await("target moved off node-1").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> mover.reconcile() == ReconcileOutcome.IDLE
                            && driven.cluster().specs().get(NexusSpec.KIND, uuid).orElseThrow().spec().nodeId().equals("node-2"));
            assertThat(driven.nexusOnNode("node-2", uuid)).as("serving on node-2").isTrue();
            assertThat(driven.nexusOnNode("node-1", uuid)).as("shut down on node-1").isFalse();
            await("node-1 Drained").atMost(Duration.ofSeconds(30)).until(() ->
                    nodes.getNode(GetNodeRequest.newBuilder().setId("node-1").build()).getDrainState() == DrainState.DRAIN_STATE_DRAINED);
        } finally {
            // The cluster is shared: node-1 takes replicas and targets again for the next test.
            nodes.uncordonNode(UncordonNodeRequest.newBuilder().setId("node-1").setLabel(DRAIN_LABEL).build());
        }
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
