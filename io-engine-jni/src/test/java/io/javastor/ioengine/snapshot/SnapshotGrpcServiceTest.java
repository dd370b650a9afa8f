package io.javastor.ioengine.snapshot;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.CreateReplicaSnapshotRequest;
import io.javastor.api.ioengine.v1.CreateSnapshotCloneRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaSnapshotRequest;
import io.javastor.api.ioengine.v1.ListReplicaSnapshotsRequest;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ReplicaSnapshot;
import io.javastor.testsupport.FreePorts;
import io.javastor.testsupport.IoEngineProcess;
import io.javastor.testsupport.IoEngineStubs;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The snapshot RPCs of a real io-engine process: create, list, clone, delete; idempotence; typed errors naming the field. */
class SnapshotGrpcServiceTest {

    @Test
    void snapshotRpcsAreIdempotentValidateAndSurviveARestart(@TempDir Path tmp) throws Exception {
        Path disk = tmp.resolve("disk.img");
        String diskUri = "uring://" + disk + "?size_mb=128";
        String replica = UUID.randomUUID().toString();
        String snapshot = UUID.randomUUID().toString();
        String clone = UUID.randomUUID().toString();
        List<String> args = List.of("--javastor.io-engine.nvmf.port=" + FreePorts.next());
        try (IoEngineProcess e = IoEngineProcess.fromClasspath("snap-api", List.of(), tmp.resolve("engine.log"), args).start()) {
            IoEngineStubs api = e.api();
            api.pools().createPool(CreatePoolRequest.newBuilder().setName("p").addDisks(diskUri).setClusterSize(1 << 20).build());
            api.replicas().createReplica(CreateReplicaRequest.newBuilder().setUuid(replica).setPool("p").setSize(16L << 20).build());

            CreateReplicaSnapshotRequest create = CreateReplicaSnapshotRequest.newBuilder().setReplicaUuid(replica)
                    .setSnapshotUuid(snapshot).setName("vol-snap-1").setTxnId(3).build();
            ReplicaSnapshot s = api.snapshots().createReplicaSnapshot(create);
            assertThat(s.getSourceUuid()).isEqualTo(replica);
            assertThat(s.getPool()).isEqualTo("p");
            assertThat(s.getTxnId()).isEqualTo(3);
            assertThat(s.getSize()).isEqualTo(16L << 20);
            assertThat(s.getAllocated()).as("a thick replica's clusters").isEqualTo(16L << 20);
            assertThat(s.getCreatedMs()).isPositive();
            assertThat(api.snapshots().createReplicaSnapshot(create)).as("idempotent").isEqualTo(s);
            assertThat(api.replicas().listReplicas(ListReplicasRequest.newBuilder().setUuid(replica).build()).getReplicas(0))
                    .satisfies(r -> {
                        assertThat(r.getThin()).as("a snapshotted replica allocates on write").isTrue();
                        assertThat(r.getAllocated()).isZero();
                    });

            expect(Status.Code.INVALID_ARGUMENT, "replica_uuid", () -> api.snapshots().createReplicaSnapshot(create.toBuilder().setReplicaUuid("x").build()));
            expect(Status.Code.INVALID_ARGUMENT, "snapshot_uuid", () -> api.snapshots().createReplicaSnapshot(create.toBuilder().clearSnapshotUuid().build()));
            expect(Status.Code.INVALID_ARGUMENT, "txn_id", () -> api.snapshots().createReplicaSnapshot(create.toBuilder()
                    .setSnapshotUuid(UUID.randomUUID().toString()).setTxnId(1L << 33).build()));
            expect(Status.Code.NOT_FOUND, "replica", () -> api.snapshots().createReplicaSnapshot(create.toBuilder()
                    .setReplicaUuid(UUID.randomUUID().toString()).build()));
            expect(Status.Code.ALREADY_EXISTS, snapshot, () -> api.snapshots().createReplicaSnapshot(create.toBuilder().setName("other").build()));
            expect(Status.Code.NOT_FOUND, "snapshot", () -> api.snapshots().createSnapshotClone(CreateSnapshotCloneRequest.newBuilder()
                    .setSnapshotUuid(UUID.randomUUID().toString()).setCloneUuid(clone).build()));
            expect(Status.Code.ALREADY_EXISTS, replica, () -> api.snapshots().createSnapshotClone(CreateSnapshotCloneRequest.newBuilder()
                    .setSnapshotUuid(snapshot).setCloneUuid(replica).build()));
            assertThat(api.snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.getDefaultInstance()).getSnapshotsList())
                    .as("nothing half-created").extracting(ReplicaSnapshot::getUuid).containsExactly(snapshot);

            CreateSnapshotCloneRequest cloneReq = CreateSnapshotCloneRequest.newBuilder().setSnapshotUuid(snapshot).setCloneUuid(clone).build();
            Replica c = api.snapshots().createSnapshotClone(cloneReq);
            assertThat(c.getThin()).isTrue();
            assertThat(c.getSize()).isEqualTo(16L << 20);
            assertThat(c.getPool()).isEqualTo("p");
            assertThat(api.snapshots().createSnapshotClone(cloneReq).getUuid()).as("idempotent").isEqualTo(clone);
            assertThat(api.snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.newBuilder().setSourceUuid(replica).build())
                    .getSnapshots(0).getClonesList()).containsExactly(clone);
            assertThat(api.snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.newBuilder().setSourceUuid(clone).build())
                    .getSnapshotsList()).isEmpty();
        }

        // A snapshot is pool metadata: after a restart and import it is still there, with its clone.
        try (IoEngineProcess e = IoEngineProcess.fromClasspath("snap-api", List.of(), tmp.resolve("engine2.log"), args).start()) {
            IoEngineStubs api = e.api();
            api.pools().importPool(io.javastor.api.ioengine.v1.ImportPoolRequest.newBuilder().setName("p").addDisks(diskUri).build());
            assertThat(api.snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.newBuilder().setSnapshotUuid(snapshot).build())
                    .getSnapshots(0)).satisfies(s -> {
                        assertThat(s.getName()).isEqualTo("vol-snap-1");
                        assertThat(s.getClonesList()).containsExactly(clone);
                    });

            // Deleted while its clone reads through it: hidden at once, its data kept for the clone until the clone goes.
            DestroyReplicaSnapshotRequest destroy = DestroyReplicaSnapshotRequest.newBuilder().setSnapshotUuid(snapshot).build();
            api.snapshots().destroyReplicaSnapshot(destroy);
            api.snapshots().destroyReplicaSnapshot(destroy);
            assertThat(api.snapshots().listReplicaSnapshots(ListReplicaSnapshotsRequest.getDefaultInstance()).getSnapshotsList()).isEmpty();
            api.replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(clone).build());
            api.replicas().destroyReplica(DestroyReplicaRequest.newBuilder().setUuid(replica).build());
            assertThat(api.pools().listPools(io.javastor.api.ioengine.v1.ListPoolsRequest.getDefaultInstance()).getPools(0).getUsed())
                    .as("every cluster freed once nothing reads the deleted snapshot").isZero();
        }
    }

    private static void expect(Status.Code code, String messagePart, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messagePart);
        });
    }
}
