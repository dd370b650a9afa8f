package io.javastor.ioengine.snapshot;

import static io.javastor.ioengine.api.GrpcReplies.call;

import io.grpc.stub.StreamObserver;
import io.javastor.api.ioengine.v1.CreateReplicaSnapshotRequest;
import io.javastor.api.ioengine.v1.CreateSnapshotCloneRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaSnapshotRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaSnapshotResponse;
import io.javastor.api.ioengine.v1.ListReplicaSnapshotsRequest;
import io.javastor.api.ioengine.v1.ListReplicaSnapshotsResponse;
import io.javastor.api.ioengine.v1.ReplicaSnapshot;
import io.javastor.api.ioengine.v1.SnapshotRpcGrpc;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.pool.ReplicaRecord;
import io.javastor.ioengine.replica.Replica;
import io.javastor.ioengine.replica.ReplicaGrpcService;
import org.springframework.stereotype.Service;

import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;

/** The io-engine's {@code SnapshotRpc} service: snapshots of the replicas on this node's pools, and their clones. */
@Service
public class SnapshotGrpcService extends SnapshotRpcGrpc.SnapshotRpcImplBase {
    private final PoolRegistry registry;
    private final ReplicaGrpcService replicas;

    public SnapshotGrpcService(PoolRegistry registry, ReplicaGrpcService replicas) {
        this.registry = registry;
        this.replicas = replicas;
    }

    @Override
    public void createReplicaSnapshot(CreateReplicaSnapshotRequest req, StreamObserver<ReplicaSnapshot> out) {
        call(out, () -> {
            UUID replica = parse("replica_uuid", req.getReplicaUuid());
            UUID snapshot = parse("snapshot_uuid", req.getSnapshotUuid());
            Replica r = registry.findReplica(replica).orElseThrow(() -> EngineException.notFound("replica " + replica + " not found"));
            Optional<Replica> elsewhere = find(snapshot).filter(s -> s.pool() != r.pool());
            if (elsewhere.isPresent()) {
                throw EngineException.exists("snapshot " + snapshot + " exists in pool " + elsewhere.get().pool().name());
            }
            String name = req.getName().isEmpty() ? snapshot.toString() : req.getName();
            return toProto(r.pool().createSnapshot(replica, snapshot, name, req.getTxnId()));
        });
    }

    @Override
    public void listReplicaSnapshots(ListReplicaSnapshotsRequest req, StreamObserver<ListReplicaSnapshotsResponse> out) {
        call(out, () -> {
            UUID snapshot = req.getSnapshotUuid().isEmpty() ? null : parse("snapshot_uuid", req.getSnapshotUuid());
            UUID source = req.getSourceUuid().isEmpty() ? null : parse("source_uuid", req.getSourceUuid());
            ListReplicaSnapshotsResponse.Builder b = ListReplicaSnapshotsResponse.newBuilder();
            registry.pools().stream()
                    .filter(p -> req.getPool().isEmpty() || p.name().equals(req.getPool()))
                    .flatMap(p -> p.snapshots().stream())
                    .filter(s -> snapshot == null || s.uuid().equals(snapshot))
                    .filter(s -> source == null || s.record().snapshot().source().equals(source))
                    .sorted(Comparator.comparing((Replica s) -> s.record().snapshot().createdMs()).thenComparing(s -> s.uuid().toString()))
                    .forEach(s -> b.addSnapshots(toProto(s)));
            return b.build();
        });
    }

    @Override
    public void destroyReplicaSnapshot(DestroyReplicaSnapshotRequest req, StreamObserver<DestroyReplicaSnapshotResponse> out) {
        call(out, () -> {
            UUID snapshot = parse("snapshot_uuid", req.getSnapshotUuid());
            find(snapshot).ifPresent(s -> s.pool().destroySnapshot(snapshot));
            return DestroyReplicaSnapshotResponse.getDefaultInstance();
        });
    }

    @Override
    public void createSnapshotClone(CreateSnapshotCloneRequest req, StreamObserver<io.javastor.api.ioengine.v1.Replica> out) {
        call(out, () -> {
            UUID snapshot = parse("snapshot_uuid", req.getSnapshotUuid());
            UUID clone = parse("clone_uuid", req.getCloneUuid());
            Replica s = find(snapshot).orElseThrow(() -> EngineException.notFound("snapshot " + snapshot + " not found"));
            Optional<Replica> elsewhere = registry.findReplica(clone).filter(r -> r.pool() != s.pool());
            if (elsewhere.isPresent()) {
                throw EngineException.exists("replica " + clone + " exists in pool " + elsewhere.get().pool().name());
            }
            String name = req.getName().isEmpty() ? clone.toString() : req.getName();
            return replicas.toProto(s.pool().createClone(snapshot, clone, name));
        });
    }

    private Optional<Replica> find(UUID snapshot) {
        for (Pool p : registry.pools()) {
            Replica s = p.snapshot(snapshot);
            if (s != null) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    private static UUID parse(String field, String text) {
        if (text.isEmpty()) {
            throw EngineException.invalid(field, "is required");
        }
        try {
            return PoolRegistry.parseUuid(text);
        } catch (EngineException e) {
            throw EngineException.invalid(field, "'" + text + "' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
        }
    }

    private static ReplicaSnapshot toProto(Replica s) {
        ReplicaRecord.SnapshotInfo info = s.record().snapshot();
        return ReplicaSnapshot.newBuilder().setUuid(s.uuid().toString()).setName(s.name()).setPool(s.pool().name())
                .setSourceUuid(info.source().toString()).setTxnId(info.txnId()).setCreatedMs(info.createdMs())
                .setSize(s.size()).setAllocated(s.allocatedBytes()).setPoolUuid(s.pool().uuid().toString())
                .addAllClones(s.pool().clonesOf(s.uuid()).stream().map(UUID::toString).sorted().toList())
                .build();
    }
}
