package io.javastor.core.pool;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.CreatePoolRequest;
import io.javastor.api.core.v1.DestroyPoolRequest;
import io.javastor.api.core.v1.DestroyPoolResponse;
import io.javastor.api.core.v1.GetPoolRequest;
import io.javastor.api.core.v1.ListPoolsRequest;
import io.javastor.api.core.v1.ListPoolsResponse;
import io.javastor.api.core.v1.Pool;
import io.javastor.api.core.v1.PoolServiceGrpc;
import io.javastor.api.core.v1.PoolStatus;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.PoolState;

@Service
public class PoolApi extends PoolServiceGrpc.PoolServiceImplBase {

    private final PoolOperations pools;
    private final NodeRegistry registry;

    public PoolApi(PoolOperations pools, NodeRegistry registry) {
        this.pools = pools;
        this.registry = registry;
    }

    @Override
    public void createPool(CreatePoolRequest request, StreamObserver<Pool> response) {
        PoolSpec spec = pools.create(request.getId(), request.getNodeId(), request.getDisksList(), request.getLabelsMap(),
                request.getEraseExisting());
        reply(response, toProto(spec));
    }

    @Override
    public void destroyPool(DestroyPoolRequest request, StreamObserver<DestroyPoolResponse> response) {
        pools.destroy(request.getId());
        reply(response, DestroyPoolResponse.getDefaultInstance());
    }

    @Override
    public void getPool(GetPoolRequest request, StreamObserver<Pool> response) {
        reply(response, toProto(pools.get(request.getId()).spec()));
    }

    @Override
    public void listPools(ListPoolsRequest request, StreamObserver<ListPoolsResponse> response) {
        ListPoolsResponse.Builder out = ListPoolsResponse.newBuilder();
        pools.list().stream().filter(p -> request.getNodeId().isEmpty() || request.getNodeId().equals(p.spec().nodeId()))
                .forEach(p -> out.addPools(toProto(p.spec())));
        reply(response, out.build());
    }

    @Override
    public void setPoolLabels(io.javastor.api.core.v1.SetPoolLabelsRequest request, StreamObserver<Pool> response) {
        reply(response, toProto(pools.setLabels(request.getId(), request.getLabelsMap())));
    }

    private Pool toProto(PoolSpec spec) {
        Pool.Builder b = Pool.newBuilder().setId(spec.id()).setNodeId(spec.nodeId()).addAllDisks(spec.disks())
                .putAllLabels(spec.labels()).setOperation(ProtoMapping.operation(spec.operation()));
        registry.get(spec.nodeId()).filter(n -> n.status().isOnline())
                .flatMap(n -> n.pools().stream().filter(p -> p.id().equals(spec.id())).findFirst())
                .ifPresent(p -> b.setStatus(status(p.health())).setCapacity(p.capacity()).setUsed(p.used()).setCommitted(p.committed()));
        return b.build();
    }

    private static PoolStatus status(PoolState.Health h) {
        return switch (h) {
            case ONLINE -> PoolStatus.POOL_STATUS_ONLINE;
            case DEGRADED -> PoolStatus.POOL_STATUS_DEGRADED;
            case FAULTED -> PoolStatus.POOL_STATUS_FAULTED;
            case UNKNOWN -> PoolStatus.POOL_STATUS_UNKNOWN;
        };
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
