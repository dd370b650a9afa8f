package io.javastor.ioengine.pool;

import static io.javastor.ioengine.api.GrpcReplies.call;
import io.grpc.stub.StreamObserver;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.DestroyPoolRequest;
import io.javastor.api.ioengine.v1.DestroyPoolResponse;
import io.javastor.api.ioengine.v1.ExportPoolRequest;
import io.javastor.api.ioengine.v1.ExportPoolResponse;
import io.javastor.api.ioengine.v1.ImportPoolRequest;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListPoolsResponse;
import io.javastor.api.ioengine.v1.PoolRpcGrpc;
import io.javastor.api.ioengine.v1.PoolStatus;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.replica.ReplicaShares;
import org.springframework.stereotype.Service;

/** The io-engine's {@code PoolRpc} service: creates, imports, exports, destroys and lists this node's pools. */
@Service
public class PoolGrpcService extends PoolRpcGrpc.PoolRpcImplBase {
    private final PoolRegistry registry;
    private final ReplicaShares shares;

    public PoolGrpcService(PoolRegistry registry, ReplicaShares shares) {
        this.registry = registry;
        this.shares = shares;
    }

    @Override
    public void createPool(CreatePoolRequest req, StreamObserver<io.javastor.api.ioengine.v1.Pool> out) {
        call(out, () -> toProto(registry.createPool(req.getName(), req.getDisksList(), req.getClusterSize(), req.getEraseExisting())));
    }

    @Override
    public void importPool(ImportPoolRequest req, StreamObserver<io.javastor.api.ioengine.v1.Pool> out) {
        call(out, () -> toProto(registry.importPool(req.getName(), req.getDisksList())));
    }

    @Override
    public void exportPool(ExportPoolRequest req, StreamObserver<ExportPoolResponse> out) {
        call(out, () -> {
            registry.pool(req.getName()).ifPresent(p -> p.replicas().forEach(r -> shares.unshare(r.uuid())));
            registry.exportPool(req.getName());
            return ExportPoolResponse.getDefaultInstance();
        });
    }

    @Override
    public void destroyPool(DestroyPoolRequest req, StreamObserver<DestroyPoolResponse> out) {
        call(out, () -> {
            if (req.getName().isEmpty()) {
                throw EngineException.invalid("name", "is required");
            }
            registry.pool(req.getName()).ifPresent(p -> p.replicas().forEach(r -> shares.unshare(r.uuid())));
            registry.destroyPool(req.getName());
            return DestroyPoolResponse.getDefaultInstance();
        });
    }

    @Override
    public void listPools(ListPoolsRequest req, StreamObserver<ListPoolsResponse> out) {
        call(out, () -> {
            ListPoolsResponse.Builder b = ListPoolsResponse.newBuilder();
            registry.pools().stream().filter(p -> req.getName().isEmpty() || p.name().equals(req.getName()))
                    .forEach(p -> b.addPools(toProto(p)));
            return b.build();
        });
    }

    static io.javastor.api.ioengine.v1.Pool toProto(Pool p) {
        PoolStatus status = p.isFaulted() ? PoolStatus.POOL_STATUS_FAULTED
                : p.statusReason().isEmpty() ? PoolStatus.POOL_STATUS_ONLINE : PoolStatus.POOL_STATUS_DEGRADED;
        return io.javastor.api.ioengine.v1.Pool.newBuilder().setName(p.name()).setUuid(p.uuid().toString()).addDisks(p.diskUri())
                .setStatus(status).setStatusReason(p.statusReason())
                .setCapacity(p.capacityBytes()).setUsed(p.usedBytes()).setCommitted(p.committedBytes())
                .setClusterSize(p.layout().clusterSize()).setBlockSize(p.layout().blockSize())
                .setMetadataGeneration(p.generation()).build();
    }
}
