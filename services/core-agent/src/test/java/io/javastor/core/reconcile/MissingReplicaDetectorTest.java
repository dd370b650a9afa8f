package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeStatus;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link MissingReplicaDetector}, driven step by step: a replica its node lost is put on record once per disappearance
 * (not once per pass), the volume reports Degraded, and nothing is re-made empty behind the user's back.
 */
class MissingReplicaDetectorTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static long missingEvents(String replica) {
        return driven.events(replica, "ReplicaMissing");
    }

    @Test
    void aReplicaItsNodeLostIsRecordedOncePerDisappearanceAndTheVolumeIsDegraded() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        String uuid = UUID.randomUUID().toString();
        Volume volume = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(uuid).setSize(4 * MIB).setReplicaCount(2).build());
        Replica lost = volume.getReplicas(1);
        var engine = driven.cluster().node(lost.getNodeId()).api().replicas();
        MissingReplicaDetector detector = driven.reconciler(MissingReplicaDetector.class);

        assertThat(detector.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(missingEvents(lost.getUuid())).as("nothing is missing yet").isZero();

        // The pool stays, the replica goes (a wiped pool region, an operator's mistake on the node).
        engine.destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(lost.getUuid()).build());
        await("inventory without the replica").atMost(Duration.ofSeconds(30)).until(() -> !driven.inventoryHasReplica(lost.getNodeId(), lost.getUuid()));
        assertThat(detector.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(detector.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(missingEvents(lost.getUuid())).as("recorded once, not once per pass").isEqualTo(1);
        assertThat(volumes.getVolume(GetVolumeRequest.newBuilder().setUuid(uuid).build()).getStatus())
                .isEqualTo(VolumeStatus.VOLUME_STATUS_DEGRADED);

        // It comes back (restored on the node), then goes again: a new disappearance, recorded again.
        engine.createReplica(CreateReplicaRequest.newBuilder().setUuid(lost.getUuid()).setPool(lost.getPoolId()).setSize(4 * MIB).build());
        await("inventory with the replica again").atMost(Duration.ofSeconds(30)).until(() -> driven.inventoryHasReplica(lost.getNodeId(), lost.getUuid()));
        assertThat(detector.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        engine.destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(lost.getUuid()).build());
        await("inventory without the replica again").atMost(Duration.ofSeconds(30)).until(() -> !driven.inventoryHasReplica(lost.getNodeId(), lost.getUuid()));
        assertThat(detector.reconcile()).isEqualTo(ReconcileOutcome.IDLE);
        assertThat(missingEvents(lost.getUuid())).as("a second disappearance").isEqualTo(2);
        assertThat(driven.inventoryHasReplica(lost.getNodeId(), lost.getUuid())).as("not re-made empty: that would hide the lost data").isFalse();

        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(uuid).build());
    }
}
