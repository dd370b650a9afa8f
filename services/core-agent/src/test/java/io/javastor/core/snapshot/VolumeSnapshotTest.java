package io.javastor.core.snapshot;

import static io.javastor.core.testsupport.AppHost.blocks;
import static io.javastor.testsupport.BlockPattern.seeded;
import static io.javastor.testsupport.BlockPattern.writeAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.CreateSnapshotRequest;
import io.javastor.api.core.v1.CreateVolumeFromSnapshotRequest;
import io.javastor.api.core.v1.CreateVolumeRequest;
import io.javastor.api.core.v1.DestroySnapshotRequest;
import io.javastor.api.core.v1.DestroyVolumeRequest;
import io.javastor.api.core.v1.GetSnapshotRequest;
import io.javastor.api.core.v1.GetVolumeRequest;
import io.javastor.api.core.v1.ListSnapshotsRequest;
import io.javastor.api.core.v1.ListSnapshotsResponse;
import io.javastor.api.core.v1.ReplicaSnapshotRef;
import io.javastor.api.core.v1.SnapshotServiceGrpc;
import io.javastor.api.core.v1.UnpublishVolumeRequest;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeServiceGrpc;
import io.javastor.api.core.v1.VolumeSnapshot;
import io.javastor.api.ioengine.v1.ListReplicaSnapshotsRequest;
import io.javastor.core.testsupport.AppHost;
import io.javastor.core.testsupport.EtcdExtension;
import io.javastor.core.testsupport.RunningAgent;
import io.javastor.core.testsupport.TestCluster;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.testsupport.BlockPattern;
import io.javastor.testsupport.IoEngineProcess;

/**
 * Volume snapshots through the core agent: of a published volume (its target pauses writes while the three replicas
 * are snapshotted) and of an unpublished one, idempotent creates, max_snapshots, paging, refusals by field, a volume
 * restored from a snapshot that reads the data as it was, and a snapshot deleted while its restored volume lives on.
 * Real agent, etcd, three io-engine processes, I/O over NVMe/TCP.
 */
class VolumeSnapshotTest {

    @RegisterExtension
    static final EtcdExtension etcd = new EtcdExtension();

    private static final int MIB = 1 << 20;
    private static final int VOLUME = 4 * MIB;
    private static final int BLOCK = 64 * 1024;
    private static TestCluster cluster;
    private static RunningAgent agent;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = TestCluster.start(etcd.endpoint(), new TestCluster.Settings("snapshots", "agent-snapshots", Map.of(), 3, 64, Map.of()));
        agent = cluster.agent();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static VolumeServiceGrpc.VolumeServiceBlockingStub volumes() {
        return VolumeServiceGrpc.newBlockingStub(agent.channel());
    }

    private static SnapshotServiceGrpc.SnapshotServiceBlockingStub snapshots() {
        return SnapshotServiceGrpc.newBlockingStub(agent.channel());
    }

    private static void assertHolds(String volume, byte[] data, String what) throws Exception {
        String uri = volumes().publishVolume(AppHost.TEST_HOST.publish(volume).build()).getTarget().getUri();
        try (NvmfBlockDevice dev = AppHost.TEST_HOST.connect(agent, uri)) {
            BlockPattern.assertHolds(blocks(dev), data, BLOCK, what);
        }
        volumes().unpublishVolume(UnpublishVolumeRequest.newBuilder().setUuid(volume).build());
    }

    private static VolumeSnapshot snapshot(String volume, String id) {
        return snapshots().createSnapshot(CreateSnapshotRequest.newBuilder().setVolumeId(volume).setSnapshotId(id).build());
    }

    @Test
    void snapshotsOfAPublishedVolumeRestoreToTheDataAsItWas() throws Exception {
        String vol = UUID.randomUUID().toString();
        volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(vol).setSize(VOLUME).setReplicaCount(3).setMaxSnapshots(2).build());
        String uri = volumes().publishVolume(AppHost.TEST_HOST.publish(vol).build()).getTarget().getUri();
        byte[] first = seeded(1, VOLUME);
        byte[] second = seeded(2, VOLUME);
        String s1 = UUID.randomUUID().toString();
        String s2 = UUID.randomUUID().toString();
        try (NvmfBlockDevice dev = AppHost.TEST_HOST.connect(agent, uri)) {
            writeAll(blocks(dev), first, BLOCK);
            VolumeSnapshot snap = snapshot(vol, s1);
            assertThat(snap.getReplicasList()).as("every replica, one transaction").hasSize(3)
                    .extracting(ReplicaSnapshotRef::getNodeId).doesNotHaveDuplicates();
            assertThat(snap.getSkippedList()).isEmpty();
            assertThat(snap.getTxnId()).isEqualTo(1);
            assertThat(snap.getSize()).isEqualTo(VOLUME);
            assertThat(snapshot(vol, s1)).as("idempotent").isEqualTo(snap);
            for (ReplicaSnapshotRef ref : snap.getReplicasList()) {
                IoEngineProcess node = cluster.nodes().stream().filter(n -> n.name().equals(ref.getNodeId())).findFirst().orElseThrow();
                assertThat(node.api().snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.newBuilder()
                        .setSnapshotUuid(ref.getSnapshotUuid()).build()).getSnapshots(0)).satisfies(rs -> {
                            assertThat(rs.getSourceUuid()).isEqualTo(ref.getReplicaUuid());
                            assertThat(rs.getName()).isEqualTo(s1);
                            assertThat(rs.getTxnId()).isEqualTo(1);
                        });
            }
            writeAll(blocks(dev), second, BLOCK);
            assertThat(snapshot(vol, s2).getTxnId()).isEqualTo(2);
        }
        Volume withTwo = volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(vol).build());
        assertThat(withTwo.getNumSnapshots()).isEqualTo(2);
        assertThat(withTwo.getMaxSnapshots()).isEqualTo(2);
        // A listing counts every volume's snapshots from one read of them: the same count as the volume's own read.
        assertThat(volumes().listVolumes(io.javastor.api.core.v1.ListVolumesRequest.getDefaultInstance()).getVolumesList())
                .filteredOn(v -> v.getUuid().equals(vol)).singleElement().satisfies(v -> assertThat(v.getNumSnapshots()).isEqualTo(2));
        expect(Status.Code.FAILED_PRECONDITION, "max_snapshots", () -> snapshot(vol, UUID.randomUUID().toString()));

        // Restore the first: a volume of clones reading what the volume held then (the volume itself holds the second).
        String restored = UUID.randomUUID().toString();
        CreateVolumeFromSnapshotRequest restore = CreateVolumeFromSnapshotRequest.newBuilder().setSnapshotId(s1).setVolumeId(restored).build();
        Volume r = snapshots().createVolumeFromSnapshot(restore);
        assertThat(r.getContentSourceSnapshot()).isEqualTo(s1);
        assertThat(r.getReplicasCount()).isEqualTo(3);
        assertThat(snapshots().createVolumeFromSnapshot(restore).getUuid()).as("idempotent").isEqualTo(restored);
        expect(Status.Code.ALREADY_EXISTS, restored, () -> snapshots().createVolumeFromSnapshot(restore.toBuilder().setSnapshotId(s2).build()));
        expect(Status.Code.INVALID_ARGUMENT, "size", () -> snapshots().createVolumeFromSnapshot(
                restore.toBuilder().setVolumeId(UUID.randomUUID().toString()).setSize(MIB).build()));
        assertThat(snapshots().getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(s1).build()).getRestoredVolumesList())
                .containsExactly(restored);
        assertHolds(restored, first, "the volume restored from the first snapshot");
        assertHolds(vol, second, "the volume itself");

        // The snapshot goes; the volume restored from it keeps its data.
        snapshots().destroySnapshot(DestroySnapshotRequest.newBuilder().setSnapshotId(s1).build());
        snapshots().destroySnapshot(DestroySnapshotRequest.newBuilder().setSnapshotId(s1).build());
        expect(Status.Code.NOT_FOUND, s1, () -> snapshots().getSnapshot(GetSnapshotRequest.newBuilder().setSnapshotId(s1).build()));
        assertHolds(restored, first, "the restored volume after its snapshot was deleted");

        // Unpublished now: snapshotted directly. Then paging over the volume's snapshots.
        String s3 = UUID.randomUUID().toString();
        assertThat(snapshot(vol, s3).getReplicasCount()).isEqualTo(3);
        ListSnapshotsResponse page1 = snapshots().listSnapshots(ListSnapshotsRequest.newBuilder().setVolumeId(vol).setMaxEntries(1).build());
        assertThat(page1.getSnapshotsList()).extracting(VolumeSnapshot::getId).containsExactly(s2);
        // A listing asks each node once for its replica snapshots; what they report is there for every replica.
        assertThat(page1.getSnapshots(0).getReplicasList()).hasSize(3).allSatisfy(ref -> {
            assertThat(ref.getOnline()).as("replica snapshot %s reported by node %s", ref.getSnapshotUuid(), ref.getNodeId()).isTrue();
            assertThat(ref.getSize()).isEqualTo(VOLUME);
            assertThat(ref.getPoolUuid()).isNotEmpty();
        });
        ListSnapshotsResponse page2 = snapshots().listSnapshots(ListSnapshotsRequest.newBuilder().setVolumeId(vol).setMaxEntries(1)
                .setStartingToken(page1.getNextToken()).build());
        assertThat(page2.getSnapshotsList()).extracting(VolumeSnapshot::getId).containsExactly(s3);
        assertThat(page2.hasNextToken()).isFalse();

        // The volume goes; its snapshots stay (and can still be restored).
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(vol).build());
        String fromOrphan = UUID.randomUUID().toString();
        snapshots().createVolumeFromSnapshot(CreateVolumeFromSnapshotRequest.newBuilder().setSnapshotId(s2).setVolumeId(fromOrphan).build());
        assertHolds(fromOrphan, second, "a volume restored from a snapshot of a destroyed volume");
        for (String v : List.of(restored, fromOrphan)) {
            volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(v).build());
        }
        for (String s : List.of(s2, s3)) {
            snapshots().destroySnapshot(DestroySnapshotRequest.newBuilder().setSnapshotId(s).build());
        }
        assertThat(snapshots().listSnapshots(ListSnapshotsRequest.getDefaultInstance()).getSnapshotsList()).isEmpty();
        for (IoEngineProcess node : cluster.nodes()) {
            assertThat(node.api().snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.getDefaultInstance()).getSnapshotsList())
                    .as("no replica snapshot left on %s", node.name()).isEmpty();
        }
    }

    /**
     * SnapshotSpecRecovery: a snapshot whose delete was cut short (spec Deleting, replica snapshots still there) and
     * a create cut short after one replica snapshot was made (spec Creating) are both ended by the agent by itself:
     * specs gone, no replica snapshot left in any pool.
     */
    @Test
    void snapshotsLeftCreatingOrDeletingAreFinishedByTheAgent() {
        String vol = UUID.randomUUID().toString();
        volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(vol).setSize(VOLUME).setReplicaCount(2).build());
        io.javastor.core.store.SpecStore store = agent.bean(io.javastor.core.store.SpecStore.class);

        String deleting = UUID.randomUUID().toString();
        List<String> left = new java.util.ArrayList<>(snapshot(vol, deleting).getReplicasList().stream().map(ReplicaSnapshotRef::getSnapshotUuid).toList());
        assertThat(left).hasSize(2);
        io.javastor.core.replica.ReplicaSpec replica = store.list(io.javastor.core.replica.ReplicaSpec.KIND).stream()
                .map(io.javastor.core.store.Versioned::spec).filter(r -> r.volumeId().equals(vol)).findFirst().orElseThrow();
        String creating = UUID.randomUUID().toString();
        String attempt = SnapshotOperations.replicaSnapshotUuid(creating, replica.uuid());
        // The cut-short create's replica snapshot first, then its spec: the order a create makes them in.
        agent.bean(io.javastor.core.node.IoEngineConnections.class).node(replica.nodeId())
                .createReplicaSnapshot(replica.uuid(), attempt, creating, 2);
        left.add(attempt);
        var taken = store.get(VolumeSnapshotSpec.KIND, deleting).orElseThrow();
        store.update(VolumeSnapshotSpec.KIND, taken, taken.spec().with(io.javastor.core.store.OperationStatus.DELETING));
        store.create(VolumeSnapshotSpec.KIND, new VolumeSnapshotSpec(creating, vol, 2, VOLUME, System.currentTimeMillis(),
                List.of(), List.of(), io.javastor.core.store.OperationStatus.CREATING));

        org.awaitility.Awaitility.await("the agent ends both snapshots").atMost(java.time.Duration.ofSeconds(60))
                .pollInterval(java.time.Duration.ofMillis(200)).untilAsserted(() -> {
                    assertThat(store.get(VolumeSnapshotSpec.KIND, deleting)).as("the snapshot left Deleting").isEmpty();
                    assertThat(store.get(VolumeSnapshotSpec.KIND, creating)).as("the snapshot left Creating").isEmpty();
                    for (IoEngineProcess node : cluster.nodes()) {
                        assertThat(node.api().snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.getDefaultInstance())
                                .getSnapshotsList()).as("replica snapshots on %s", node.name())
                                .noneMatch(rs -> left.contains(rs.getUuid()));
                    }
                });
        assertThat(volumes().getVolume(GetVolumeRequest.newBuilder().setUuid(vol).build()).getNumSnapshots()).isZero();
        volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(vol).build());
    }

    @Test
    void refusalsNameWhatIsWrongAndChangeNothing() {
        String vol = UUID.randomUUID().toString();
        volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(vol).setSize(VOLUME).setReplicaCount(1).build());
        String id = UUID.randomUUID().toString();
        expect(Status.Code.INVALID_ARGUMENT, "snapshot_id", () -> snapshot(vol, "not-a-uuid"));
        expect(Status.Code.INVALID_ARGUMENT, "volume_id", () -> snapshot("", id));
        expect(Status.Code.NOT_FOUND, "volume", () -> snapshot(UUID.randomUUID().toString(), id));
        expect(Status.Code.NOT_FOUND, "snapshot", () -> snapshots().createVolumeFromSnapshot(CreateVolumeFromSnapshotRequest.newBuilder()
                .setSnapshotId(id).setVolumeId(UUID.randomUUID().toString()).build()));
        assertThat(snapshots().listSnapshots(ListSnapshotsRequest.newBuilder().setVolumeId(vol).build()).getSnapshotsList()).isEmpty();
        snapshot(vol, id);
        String other = UUID.randomUUID().toString();
        volumes().createVolume(CreateVolumeRequest.newBuilder().setUuid(other).setSize(VOLUME).setReplicaCount(1).build());
        expect(Status.Code.ALREADY_EXISTS, vol, () -> snapshot(other, id));
        snapshots().destroySnapshot(DestroySnapshotRequest.newBuilder().setSnapshotId(id).build());
        for (String v : List.of(vol, other)) {
            volumes().destroyVolume(DestroyVolumeRequest.newBuilder().setUuid(v).build());
        }
    }

    private static void expect(Status.Code code, String messagePart, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }
}
