package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link OfflineTargetMover}, driven step by step: while no node is Offline nothing moves; once the node of a volume's
 * target is Offline (frozen here: it answers nothing and stops beating) the target moves, once, to the node that holds
 * the volume's replica; a target on an Online node stays where it is.
 */
class OfflineTargetMoverTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static String targetNode(String uuid) {
        return driven.cluster().specs().get(NexusSpec.KIND, uuid).orElseThrow().spec().nodeId();
    }

    private static String other(String node) {
        return node.equals("node-1") ? "node-2" : "node-1";
    }

    @Test
    void aTargetOnAnOfflineNodeMovesOnceAndOneOnAnOnlineNodeStays() throws Exception {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        // One replica each; the target on the node without it, so the move has a reachable replica to go to.
        String moving = UUID.randomUUID().toString();
        String replicaNode = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(moving).setSize(4 * MIB).setReplicaCount(1).build())
                .getReplicas(0).getNodeId();
        String lost = other(replicaNode);
        volumes.publishVolume(AppHost.TEST_HOST.publish(moving).setPreferredNodeId(lost).build());
        String staying = UUID.randomUUID().toString();
        volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(staying).setSize(4 * MIB).setReplicaCount(1).build());
        volumes.publishVolume(AppHost.TEST_HOST.publish(staying).setPreferredNodeId(replicaNode).build());
        assertThat(targetNode(moving)).isEqualTo(lost);
        assertThat(targetNode(staying)).isEqualTo(replicaNode);

        OfflineTargetMover mover = driven.reconciler(OfflineTargetMover.class);
        assertThat(mover.reconcile()).as("every node Online: nothing moves").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(targetNode(moving)).isEqualTo(lost);

        try (var frozen = driven.offline(lost)) {
            assertThat(mover.reconcile()).as("the move is done in one pass").isEqualTo(ReconcileOutcome.IDLE);
            assertThat(targetNode(moving)).as("moved to the replica's node").isEqualTo(replicaNode);
            assertThat(driven.nexusOnNode(replicaNode, moving)).as("serving there").isTrue();
            assertThat(targetNode(staying)).as("a target on an Online node").isEqualTo(replicaNode);
            assertThat(mover.reconcile()).as("second pass").isEqualTo(ReconcileOutcome.IDLE);
            await("move recorded").atMost(Duration.ofSeconds(10)).until(() -> driven.events(moving, "TargetMoved") >= 1);
            assertThat(driven.events(moving, "TargetMoved")).as("moved once").isEqualTo(1);
            assertThat(driven.events(staying, "TargetMoved")).isZero();
        }
        // Thawed, the old node still runs the fenced old target: the stale-target collector's to destroy (and the cluster
        // is shared, so it goes before the next test).
        StaleTargetCollector stale = driven.reconciler(StaleTargetCollector.class);
        await("old target destroyed").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> stale.reconcile() == ReconcileOutcome.IDLE && !driven.nexusOnNode(lost, moving));
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(moving).build());
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(staying).build());
    }
}
