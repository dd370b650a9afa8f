package io.javastor.ioengine.replica;

import static io.javastor.ioengine.api.GrpcReplies.call;
import io.grpc.stub.StreamObserver;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaResponse;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.api.ioengine.v1.ListReplicasResponse;
import io.javastor.api.ioengine.v1.ReplicaRpcGrpc;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.api.ioengine.v1.UnshareReplicaRequest;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.api.DhchapRequests;
import io.javastor.ioengine.pool.PoolRegistry;
import org.springframework.stereotype.Service;

/** The io-engine's {@code ReplicaRpc} service: replicas on this node's pools, and their NVMe-oF shares. */
@Service
public class ReplicaGrpcService extends ReplicaRpcGrpc.ReplicaRpcImplBase {
    private final PoolRegistry registry;
    private final ReplicaShares shares;

    public ReplicaGrpcService(PoolRegistry registry, ReplicaShares shares) {
        this.registry = registry;
        this.shares = shares;
    }

    @Override
    public void createReplica(CreateReplicaRequest req, StreamObserver<io.javastor.api.ioengine.v1.Replica> out) {
        call(out, () -> toProto(registry.createReplica(req.getUuid(), req.getName(), req.getPool(), req.getSize(), req.getThin())));
    }

    @Override
    public void destroyReplica(DestroyReplicaRequest req, StreamObserver<DestroyReplicaResponse> out) {
        call(out, () -> {
            registry.findReplica(PoolRegistry.parseUuid(req.getUuid()))
                    .filter(r -> req.getPool().isEmpty() || r.pool().name().equals(req.getPool()))
                    .ifPresent(r -> shares.unshare(r.uuid()));
            registry.destroyReplica(req.getUuid(), req.getPool());
            return DestroyReplicaResponse.getDefaultInstance();
        });
    }

    @Override
    public void resizeReplica(ResizeReplicaRequest req, StreamObserver<io.javastor.api.ioengine.v1.Replica> out) {
        call(out, () -> {
            Replica r = registry.resizeReplica(req.getUuid(), req.getRequestedSize());
            shares.resized(r.uuid()); // hosts of its share (a remote nexus) learn the new size
            return toProto(r);
        });
    }

    @Override
    public void listReplicas(ListReplicasRequest req, StreamObserver<ListReplicasResponse> out) {
        call(out, () -> {
            if (!req.getUuid().isEmpty()) {
                PoolRegistry.parseUuid(req.getUuid());
            }
            ListReplicasResponse.Builder b = ListReplicasResponse.newBuilder();
            registry.replicas().stream()
                    .filter(r -> req.getPool().isEmpty() || r.pool().name().equals(req.getPool()))
                    .filter(r -> req.getUuid().isEmpty() || r.uuid().toString().equalsIgnoreCase(req.getUuid()))
                    .forEach(r -> b.addReplicas(toProto(r)));
            return b.build();
        });
    }

    @Override
    public void shareReplica(ShareReplicaRequest req, StreamObserver<io.javastor.api.ioengine.v1.Replica> out) {
        call(out, () -> {
            Replica r = registry.requireReplica(req.getUuid());
            if (req.getProtocol() != ShareProtocol.SHARE_PROTOCOL_NVMF) {
                throw EngineException.invalid("protocol", "only SHARE_PROTOCOL_NVMF is supported, got " + req.getProtocol());
            }
            shares.share(r, req.getAllowedHostsList(), DhchapRequests.keys("dhchap", req.getDhchapMap()));
            return toProto(r);
        });
    }

    @Override
    public void unshareReplica(UnshareReplicaRequest req, StreamObserver<io.javastor.api.ioengine.v1.Replica> out) {
        call(out, () -> {
            Replica r = registry.requireReplica(req.getUuid());
            shares.unshare(r.uuid());
            return toProto(r);
        });
    }

    public io.javastor.api.ioengine.v1.Replica toProto(Replica r) {
        ReplicaShares.Share s = shares.share(r.uuid());
        var b = io.javastor.api.ioengine.v1.Replica.newBuilder().setUuid(r.uuid().toString()).setName(r.name()).setPool(r.pool().name())
                .setSize(r.size()).setThin(r.thin()).setAllocated(r.allocatedBytes()).setBlockSize(r.blockSize());
        if (s == null) {
            b.setShare(ShareProtocol.SHARE_PROTOCOL_NONE).setUri(r.uri());
        } else {
            b.setShare(ShareProtocol.SHARE_PROTOCOL_NVMF).setUri(s.uri()).addAllAllowedHosts(s.allowedHosts());
        }
        return b.build();
    }
}
