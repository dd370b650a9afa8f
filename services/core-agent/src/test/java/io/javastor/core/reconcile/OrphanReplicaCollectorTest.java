package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.core.testsupport.DrivenReconcilers;
import io.javastor.core.testsupport.TestCluster;

/** {@link OrphanReplicaCollector}, driven step by step: a replica no spec wants goes after the grace, and only such. */
class OrphanReplicaCollectorTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    @Test
    void aReplicaNoSpecWantsIsDestroyedOnceTheGraceHasRunOutAndAVolumesReplicaIsKept() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        Volume volume = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(UUID.randomUUID().toString())
                .setSize(4 * MIB).setReplicaCount(1).build());
        String node = volume.getReplicas(0).getNodeId();
        String kept = volume.getReplicas(0).getUuid();
        // Made on the node behind the agent's back: what a crash between a node's create and the spec write leaves.
        String orphan = UUID.randomUUID().toString();
        driven.cluster().node(node).api().replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(orphan)
                .setPool(TestCluster.poolOf(node)).setSize(4 * MIB).build());
        await("inventory shows the orphan").atMost(Duration.ofSeconds(30)).until(() -> driven.inventoryHasReplica(node, orphan));

        OrphanReplicaCollector collector = driven.reconciler(OrphanReplicaCollector.class);
        long firstSeen = System.nanoTime();
        assertThat(collector.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.replicaOnNode(node, orphan)).as("first seen now: an operation in flight may still write its spec").isTrue();

        await("orphan destroyed after the grace").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> collector.reconcile() == ReconcileOutcome.IDLE && !driven.replicaOnNode(node, orphan));
        assertThat(Duration.ofNanos(System.nanoTime() - firstSeen)).as("not before the 2 s grace").isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(driven.replicaOnNode(node, kept)).as("the volume's replica has a spec: never an orphan").isTrue();
        assertThat(driven.events(orphan, "OrphanReplicaDestroyed")).isEqualTo(1);

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(volume.getUuid()).build());
    }
}
