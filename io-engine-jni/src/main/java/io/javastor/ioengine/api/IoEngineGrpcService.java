package io.javastor.ioengine.api;

import static io.javastor.ioengine.api.GrpcReplies.call;
import io.grpc.stub.StreamObserver;
import io.javastor.api.ioengine.v1.CreatePoolRequest;
import io.javastor.api.ioengine.v1.CreateReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyPoolRequest;
import io.javastor.api.ioengine.v1.DestroyPoolResponse;
import io.javastor.api.ioengine.v1.DestroyReplicaRequest;
import io.javastor.api.ioengine.v1.DestroyReplicaResponse;
import io.javastor.api.ioengine.v1.ExportPoolRequest;
import io.javastor.api.ioengine.v1.ExportPoolResponse;
import io.javastor.api.ioengine.v1.GetNodeInfoRequest;
import io.javastor.api.ioengine.v1.ImportPoolRequest;
import io.javastor.api.ioengine.v1.IoEngineGrpc;
import io.javastor.api.ioengine.v1.ListPoolsRequest;
import io.javastor.api.ioengine.v1.ListPoolsResponse;
import io.javastor.api.ioengine.v1.ListReplicasRequest;
import io.javastor.api.ioengine.v1.ListReplicasResponse;
import io.javastor.api.ioengine.v1.NodeInfo;
import io.javastor.api.ioengine.v1.Pool;
import io.javastor.api.ioengine.v1.PoolStatus;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.api.ioengine.v1.ResizeReplicaRequest;
import io.javastor.api.ioengine.v1.ShareProtocol;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.IoEngineProperties;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.ReplicaShares;
import io.javastor.api.ioengine.v1.ShareReplicaRequest;
import io.javastor.api.ioengine.v1.UnshareReplicaRequest;
import org.springframework.stereotype.Service;


/** The io-engine gRPC API: validates, calls the pool registry, maps results and typed errors. */
@Service
public class IoEngineGrpcService extends IoEngineGrpc.IoEngineImplBase {
    public static final String VERSION = "0.1.0";

    private final PoolRegistry registry;
    private final IoEngineProperties props;
    private final EngineEndpoint endpoint;
    private final ReplicaShares shares;

    public IoEngineGrpcService(PoolRegistry registry, IoEngineProperties props, EngineEndpoint endpoint, ReplicaShares shares) {
        this.registry = registry;
        this.props = props;
        this.endpoint = endpoint;
        this.shares = shares;
    }

    @Override
    public void getNodeInfo(GetNodeInfoRequest request, StreamObserver<NodeInfo> out) {
        call(out, () -> NodeInfo.newBuilder().setNodeName(props.nodeName()).setNodeNqn(props.nodeNqn())
                .setVersion(VERSION).setGrpcEndpoint(endpoint.grpcEndpoint()).build());
    }

    @Override
    public void createPool(CreatePoolRequest req, StreamObserver<Pool> out) {
        call(out, () -> toProto(registry.createPool(req.getName(), req.getDisksList(), req.getClusterSize(), req.getEraseExisting())));
    }

    @Override
    public void importPool(ImportPoolRequest req, StreamObserver<Pool> out) {
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

    @Override
    public void createReplica(CreateReplicaRequest req, StreamObserver<Replica> out) {
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
    public void resizeReplica(ResizeReplicaRequest req, StreamObserver<Replica> out) {
        call(out, () -> {
            io.javastor.ioengine.replica.Replica r = registry.resizeReplica(req.getUuid(), req.getRequestedSize());
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
    public void shareReplica(ShareReplicaRequest req, StreamObserver<Replica> out) {
        call(out, () -> {
            io.javastor.ioengine.replica.Replica r = registry.requireReplica(req.getUuid());
            if (req.getProtocol() != ShareProtocol.SHARE_PROTOCOL_NVMF) {
                throw EngineException.invalid("protocol", "only SHARE_PROTOCOL_NVMF is supported, got " + req.getProtocol());
            }
            shares.share(r, req.getAllowedHostsList());
            return toProto(r);
        });
    }

    @Override
    public void unshareReplica(UnshareReplicaRequest req, StreamObserver<Replica> out) {
        call(out, () -> {
            io.javastor.ioengine.replica.Replica r = registry.requireReplica(req.getUuid());
            shares.unshare(r.uuid());
            return toProto(r);
        });
    }

    static Pool toProto(io.javastor.ioengine.pool.Pool p) {
        PoolStatus status = p.isFaulted() ? PoolStatus.POOL_STATUS_FAULTED
                : p.statusReason().isEmpty() ? PoolStatus.POOL_STATUS_ONLINE : PoolStatus.POOL_STATUS_DEGRADED;
        return Pool.newBuilder().setName(p.name()).setUuid(p.uuid().toString()).addDisks(p.diskUri())
                .setStatus(status).setStatusReason(p.statusReason())
                .setCapacity(p.capacityBytes()).setUsed(p.usedBytes()).setCommitted(p.committedBytes())
                .setClusterSize(p.layout().clusterSize()).setBlockSize(p.layout().blockSize())
                .setMetadataGeneration(p.generation()).build();
    }

    Replica toProto(io.javastor.ioengine.replica.Replica r) {
        ReplicaShares.Share s = shares.share(r.uuid());
        Replica.Builder b = Replica.newBuilder().setUuid(r.uuid().toString()).setName(r.name()).setPool(r.pool().name())
                .setSize(r.size()).setThin(r.thin()).setAllocated(r.allocatedBytes()).setBlockSize(r.blockSize());
        if (s == null) {
            b.setShare(ShareProtocol.SHARE_PROTOCOL_NONE).setUri(r.uri());
        } else {
            b.setShare(ShareProtocol.SHARE_PROTOCOL_NVMF).setUri(s.uri()).addAllAllowedHosts(s.allowedHosts());
        }
        return b.build();
    }

    // ---- nexus: implemented in io.javastor.ioengine.nexus.NexusGrpcApi (one gRPC service, so these delegate)

    @org.springframework.beans.factory.annotation.Autowired
    private io.javastor.ioengine.nexus.NexusGrpcApi nexus;

    @Override
    public void createNexus(io.javastor.api.ioengine.v1.CreateNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.createNexus(r, o); }

    @Override
    public void destroyNexus(io.javastor.api.ioengine.v1.DestroyNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.DestroyNexusResponse> o) { nexus.destroyNexus(r, o); }

    @Override
    public void listNexus(io.javastor.api.ioengine.v1.ListNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.ListNexusResponse> o) { nexus.listNexus(r, o); }

    @Override
    public void addChildNexus(io.javastor.api.ioengine.v1.AddChildNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.addChildNexus(r, o); }

    @Override
    public void removeChildNexus(io.javastor.api.ioengine.v1.RemoveChildNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.removeChildNexus(r, o); }

    @Override
    public void faultNexusChild(io.javastor.api.ioengine.v1.FaultNexusChildRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.faultNexusChild(r, o); }

    @Override
    public void publishNexus(io.javastor.api.ioengine.v1.PublishNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.publishNexus(r, o); }

    @Override
    public void unpublishNexus(io.javastor.api.ioengine.v1.UnpublishNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.unpublishNexus(r, o); }

    @Override
    public void resizeNexus(io.javastor.api.ioengine.v1.ResizeNexusRequest r, StreamObserver<io.javastor.api.ioengine.v1.Nexus> o) { nexus.resizeNexus(r, o); }

    @Override
    public void startRebuild(io.javastor.api.ioengine.v1.RebuildRequest r, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> o) { nexus.startRebuild(r, o); }

    @Override
    public void pauseRebuild(io.javastor.api.ioengine.v1.RebuildRequest r, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> o) { nexus.pauseRebuild(r, o); }

    @Override
    public void resumeRebuild(io.javastor.api.ioengine.v1.RebuildRequest r, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> o) { nexus.resumeRebuild(r, o); }

    @Override
    public void stopRebuild(io.javastor.api.ioengine.v1.RebuildRequest r, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> o) { nexus.stopRebuild(r, o); }

    @Override
    public void getRebuildStats(io.javastor.api.ioengine.v1.RebuildRequest r, StreamObserver<io.javastor.api.ioengine.v1.RebuildStats> o) { nexus.getRebuildStats(r, o); }

    @Override
    public void getRebuildHistory(io.javastor.api.ioengine.v1.RebuildHistoryRequest r, StreamObserver<io.javastor.api.ioengine.v1.RebuildHistoryResponse> o) { nexus.getRebuildHistory(r, o); }
}
