package io.javastor.core.replica;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.ListReplicasRequest;
import io.javastor.api.core.v1.ListReplicasResponse;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.ReplicaServiceGrpc;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.ReplicaState;

/** Replicas by spec, with whether their node reports them. */
@Service
public class ReplicaApi extends ReplicaServiceGrpc.ReplicaServiceImplBase {

    private final ReplicaOperations replicas;
    private final NodeRegistry registry;

    public ReplicaApi(ReplicaOperations replicas, NodeRegistry registry) {
        this.replicas = replicas;
        this.registry = registry;
    }

    @Override
    public void listReplicas(ListReplicasRequest request, StreamObserver<ListReplicasResponse> response) {
        ListReplicasResponse.Builder out = ListReplicasResponse.newBuilder();
        for (var r : replicas.all()) {
            ReplicaSpec s = r.spec();
            if ((!request.getVolumeId().isEmpty() && !request.getVolumeId().equals(s.volumeId()))
                    || (!request.getNodeId().isEmpty() && !request.getNodeId().equals(s.nodeId()))) {
                continue;
            }
            var observed = registry.get(s.nodeId()).filter(n -> n.status().isOnline())
                    .flatMap(n -> n.replicas().stream().filter(x -> x.uuid().equals(s.uuid())).findFirst());
            out.addReplicas(toProto(s, observed.isPresent(), observed.map(ReplicaState::uri).orElse("")));
        }
        response.onNext(out.build());
        response.onCompleted();
    }

    public static Replica toProto(ReplicaSpec s, boolean present, String uri) {
        return Replica.newBuilder().setUuid(s.uuid()).setPoolId(s.poolId()).setNodeId(s.nodeId()).setSize(s.size())
                .setThin(s.thin()).setVolumeId(s.volumeId()).setOperation(ProtoMapping.operation(s.operation()))
                .setPresent(present).setUri(uri).build();
    }
}
