package io.javastor.core.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.javastor.api.core.v1.CreateSnapshotRequest;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroySnapshotRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.SnapshotServiceGrpc;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.ioengine.v1.CreateReplicaSnapshotRequest;
import io.javastor.api.ioengine.v1.ListReplicaSnapshotsRequest;
import io.javastor.core.snapshot.SnapshotOperations;
import io.javastor.core.snapshot.VolumeSnapshotSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.testsupport.DrivenReconcilers;

/**
 * {@link SnapshotSpecRecovery}, driven step by step: a snapshot left Creating (its create was cut short after one replica
 * was snapshotted) is discarded with the replica snapshot it made; one left Deleting is finished (its replica snapshots
 * destroyed, its spec removed); a Created snapshot is left alone, and a second pass does nothing.
 */
class SnapshotSpecRecoveryTest {

    @RegisterExtension
    static final DrivenReconcilers driven = new DrivenReconcilers();

    private static final long MIB = 1 << 20;

    private static boolean onNode(String node, String replicaSnapshot) {
        return driven.cluster().node(node).api().snapshots()
                .listReplicaSnapshots(ListReplicaSnapshotsRequest.newBuilder().setSnapshotUuid(replicaSnapshot).build()).getSnapshotsCount() == 1;
    }

    @Test
    void aSnapshotLeftCreatingIsDiscardedAndOneLeftDeletingIsFinished() {
        var volumes = VolumeServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        var snapshots = SnapshotServiceGrpc.newBlockingStub(driven.cluster().agent().channel());
        SpecStore specs = driven.cluster().specs();
        String volume = UUID.randomUUID().toString();
        List<Replica> replicas = volumes.createVolume(CreateVolumeRequest.newBuilder().setUuid(volume).setSize(4 * MIB).setReplicaCount(2)
                .build()).getReplicasList();

        // Left Creating: the spec was written and the first replica snapshotted, then the agent died.
        String halfMade = UUID.randomUUID().toString();
        Replica first = replicas.get(0);
        String halfMadeOnFirst = SnapshotOperations.replicaSnapshotUuid(halfMade, first.getUuid());
        specs.create(VolumeSnapshotSpec.KIND, new VolumeSnapshotSpec(halfMade, volume, 1_000, 4 * MIB, System.currentTimeMillis(),
                List.of(), List.of(), OperationStatus.CREATING));
        driven.cluster().node(first.getNodeId()).api().snapshots().createReplicaSnapshot(CreateReplicaSnapshotRequest.newBuilder()
                .setReplicaUuid(first.getUuid()).setSnapshotUuid(halfMadeOnFirst).setTxnId(1_000).build());

        // Left Deleting: a whole snapshot whose destroy was cut short after its spec was marked.
        String kept = UUID.randomUUID().toString();
        snapshots.createSnapshot(CreateSnapshotRequest.newBuilder().setVolumeId(volume).setSnapshotId(kept).build());
        String leftDeleting = UUID.randomUUID().toString();
        snapshots.createSnapshot(CreateSnapshotRequest.newBuilder().setVolumeId(volume).setSnapshotId(leftDeleting).build());
        var whole = specs.get(VolumeSnapshotSpec.KIND, leftDeleting).orElseThrow();
        assertThat(whole.spec().replicas()).as("one replica snapshot per replica").hasSize(2);
        specs.update(VolumeSnapshotSpec.KIND, whole, whole.spec().with(OperationStatus.DELETING));

        SnapshotSpecRecovery recovery = driven.reconciler(SnapshotSpecRecovery.class);
        // The agent's store may see the test's writes a moment later.
        await("both left-overs ended").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> recovery.reconcile() == ReconcileOutcome.IDLE
                        && specs.get(VolumeSnapshotSpec.KIND, halfMade).isEmpty() && specs.get(VolumeSnapshotSpec.KIND, leftDeleting).isEmpty());
        assertThat(onNode(first.getNodeId(), halfMadeOnFirst)).as("the half-made attempt's replica snapshot").isFalse();
        for (var ref : whole.spec().replicas()) {
            assertThat(onNode(ref.nodeId(), ref.snapshotUuid())).as("replica snapshot %s of the deleted snapshot", ref.snapshotUuid()).isFalse();
        }
        assertThat(driven.events(halfMade, "SnapshotDiscarded")).isEqualTo(1);
        assertThat(driven.events(leftDeleting, "SnapshotDestroyed")).isEqualTo(1);

        var stays = specs.get(VolumeSnapshotSpec.KIND, kept).orElseThrow().spec();
        assertThat(stays.operation()).as("a Created snapshot is not recovered").isEqualTo(OperationStatus.CREATED);
        for (var ref : stays.replicas()) {
            assertThat(onNode(ref.nodeId(), ref.snapshotUuid())).as("replica snapshot %s of the kept snapshot", ref.snapshotUuid()).isTrue();
        }
        assertThat(recovery.reconcile()).as("nothing left half-done").isEqualTo(ReconcileOutcome.IDLE);
        assertThat(driven.events(halfMade, "SnapshotDiscarded")).as("discarded once").isEqualTo(1);

        snapshots.destroySnapshot(DestroySnapshotRequest.newBuilder().setSnapshotId(kept).build());
        volumes.destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(volume).build());
    }
}
