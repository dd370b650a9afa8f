package io.javastor.core.snapshot;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.CreateSnapshotRequest;
import io.javastor.api.core.v1.CreateVolumeFromSnapshotRequest;
import io.javastor.api.core.v1.DestroySnapshotRequest;
import io.javastor.api.core.v1.DestroySnapshotResponse;
import io.javastor.api.core.v1.GetSnapshotRequest;
import io.javastor.api.core.v1.ListSnapshotsRequest;
import io.javastor.api.core.v1.ListSnapshotsResponse;
import io.javastor.api.core.v1.ReplicaSnapshotRef;
import io.javastor.api.core.v1.SnapshotServiceGrpc;
import io.javastor.api.core.v1.Volume;
import io.javastor.api.core.v1.VolumeSnapshot;
import io.javastor.core.operation.CoreException;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.volume.VolumeApi;

/** The core agent's {@code SnapshotService}: volume snapshots and volumes restored from them. */
@Service
public class SnapshotApi extends SnapshotServiceGrpc.SnapshotServiceImplBase {

    private final SnapshotOperations snapshots;
    private final VolumeApi volumes;

    public SnapshotApi(SnapshotOperations snapshots, VolumeApi volumes) {
        this.snapshots = snapshots;
        this.volumes = volumes;
    }

    @Override
    public void createSnapshot(CreateSnapshotRequest r, StreamObserver<VolumeSnapshot> response) {
        reply(response, toProto(snapshots.create(r.getVolumeId(), r.getSnapshotId()), snapshots::observe, snapshots.restoredVolumes()));
    }

    @Override
    public void destroySnapshot(DestroySnapshotRequest r, StreamObserver<DestroySnapshotResponse> response) {
        snapshots.destroy(r.getSnapshotId());
        reply(response, DestroySnapshotResponse.getDefaultInstance());
    }

    @Override
    public void getSnapshot(GetSnapshotRequest r, StreamObserver<VolumeSnapshot> response) {
        reply(response, toProto(snapshots.get(r.getSnapshotId()), snapshots::observe, snapshots.restoredVolumes()));
    }

    @Override
    public void listSnapshots(ListSnapshotsRequest r, StreamObserver<ListSnapshotsResponse> response) {
        SnapshotOperations.Page page = snapshots.list(r.getVolumeId(), r.getMaxEntries(), r.getStartingToken());
        ListSnapshotsResponse.Builder out = ListSnapshotsResponse.newBuilder();
        // One listing per node and one pass over the volumes for the whole page, not per snapshot.
        var observe = snapshots.observer();
        var restored = snapshots.restoredVolumes();
        page.snapshots().forEach(s -> out.addSnapshots(toProto(s, observe, restored)));
        page.nextToken().ifPresent(out::setNextToken);
        reply(response, out.build());
    }

    @Override
    public void createVolumeFromSnapshot(CreateVolumeFromSnapshotRequest r, StreamObserver<Volume> response) {
        // uint32/uint64 beyond Java's signed range arrive negative and fail validation by field.
        if (r.getSize() < 0) {
            throw new CoreException.InvalidArgument("size", "too large");
        }
        if (r.getMaxSnapshots() < 0) {
            throw new CoreException.InvalidArgument("max_snapshots", "too large");
        }
        reply(response, volumes.toProto(snapshots.restore(r.getSnapshotId(), r.getVolumeId(), r.getSize(), r.getMaxSnapshots())));
    }

    private static VolumeSnapshot toProto(VolumeSnapshotSpec s,
                                          java.util.function.Function<VolumeSnapshotSpec.ReplicaSnapshotRef, java.util.Optional<io.javastor.api.ioengine.v1.ReplicaSnapshot>> observe,
                                          java.util.Map<String, java.util.List<String>> restored) {
        VolumeSnapshot.Builder b = VolumeSnapshot.newBuilder().setId(s.id()).setVolumeId(s.volumeId()).setTxnId(s.txnId())
                .setSize(s.size()).setCreated(ProtoMapping.timestamp(java.time.Instant.ofEpochMilli(s.createdMs())))
                .setOperation(ProtoMapping.operation(s.operation())).addAllSkipped(s.skipped())
                .addAllRestoredVolumes(restored.getOrDefault(s.id(), java.util.List.of()));
        for (var ref : s.replicas()) {
            ReplicaSnapshotRef.Builder r = ReplicaSnapshotRef.newBuilder().setSnapshotUuid(ref.snapshotUuid())
                    .setReplicaUuid(ref.replicaUuid()).setNodeId(ref.nodeId()).setPoolId(ref.poolId());
            observe.apply(ref).ifPresent(o -> r.setOnline(true).setPoolUuid(o.getPoolUuid()).setSize(o.getSize())
                    .setAllocated(o.getAllocated()).setCreated(ProtoMapping.timestamp(java.time.Instant.ofEpochMilli(o.getCreatedMs()))));
            b.addReplicas(r);
        }
        return b.build();
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
