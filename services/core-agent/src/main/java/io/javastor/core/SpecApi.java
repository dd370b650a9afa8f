package io.javastor.core;

import io.javastor.core.operation.CoreException;
import java.util.List;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.ListSpecsRequest;
import io.javastor.api.core.v1.ListSpecsResponse;
import io.javastor.api.core.v1.SpecServiceGrpc;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.nexus.NexusInfo;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.pool.PoolSpec;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.snapshot.VolumeSnapshotSpec;
import io.javastor.core.store.SpecKind;
import io.javastor.core.store.SpecStore;
import io.javastor.core.volume.VolumeSpec;

/**
 * The raw specs in etcd, for debugging and the dashboard. It lists every kind, so it sits above the resource packages
 * (here, beside the wiring) rather than in {@code store}, which they all build on.
 */
@Service
public class SpecApi extends SpecServiceGrpc.SpecServiceImplBase {

    private static final List<SpecKind<?>> KINDS = List.of(NodeSpec.KIND, PoolSpec.KIND, ReplicaSpec.KIND, VolumeSpec.KIND, NexusSpec.KIND,
            NexusInfo.KIND, VolumeSnapshotSpec.KIND);

    private final SpecStore store;

    public SpecApi(SpecStore store) {
        this.store = store;
    }

    @Override
    public void listSpecs(ListSpecsRequest request, StreamObserver<ListSpecsResponse> response) {
        List<SpecKind<?>> kinds = request.getKind().isEmpty() ? KINDS
                : KINDS.stream().filter(k -> k.name().equals(request.getKind())).toList();
        if (kinds.isEmpty()) {
            // Named from the list itself, so a kind added there is never missing from the message.
            throw new CoreException.InvalidArgument("kind", "'" + request.getKind() + "' is not a spec kind; must be one of "
                    + String.join(", ", KINDS.stream().map(SpecKind::name).toList()));
        }
        ListSpecsResponse.Builder out = ListSpecsResponse.newBuilder();
        for (SpecStore.RawSpec s : store.listRaw(kinds)) {
            out.addSpecs(io.javastor.api.core.v1.Spec.newBuilder().setKind(s.kind()).setId(s.id())
                    .setOperation(ProtoMapping.operation(s.operation())).setJson(s.json()).setModRevision(s.modRevision()));
        }
        response.onNext(out.build());
        response.onCompleted();
    }
}
