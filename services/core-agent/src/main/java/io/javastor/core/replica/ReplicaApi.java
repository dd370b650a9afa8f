package io.javastor.core.replica;

import java.util.HashMap;
import java.util.Map;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.CreateReplicaRequest;
import io.javastor.api.core.v1.DestroyReplicaRequest;
import io.javastor.api.core.v1.DestroyReplicaResponse;
import io.javastor.api.core.v1.ListReplicasRequest;
import io.javastor.api.core.v1.ListReplicasResponse;
import io.javastor.api.core.v1.Replica;
import io.javastor.api.core.v1.ReplicaServiceGrpc;
import io.javastor.api.core.v1.ShareReplicaRequest;
import io.javastor.api.core.v1.UnshareReplicaRequest;
import io.javastor.core.operation.CoreException;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.ReplicaState;

/** Replicas by spec, with whether their node reports them; and replicas outside volumes, made on request. */
@Service
public class ReplicaApi extends ReplicaServiceGrpc.ReplicaServiceImplBase {

    private final ReplicaOperations replicas;
    private final StandaloneReplicas standalone;
    private final NodeRegistry registry;

    public ReplicaApi(ReplicaOperations replicas, StandaloneReplicas standalone, NodeRegistry registry) {
        this.replicas = replicas;
        this.standalone = standalone;
        this.registry = registry;
    }

    @Override
    public void listReplicas(ListReplicasRequest request, StreamObserver<ListReplicasResponse> response) {
        ListReplicasResponse.Builder out = ListReplicasResponse.newBuilder();
        Map<String, ReplicaState> observed = observedReplicas(registry);
        for (var r : replicas.all()) {
            ReplicaSpec s = r.spec();
            if ((!request.getVolumeId().isEmpty() && !request.getVolumeId().equals(s.volumeId()))
                    || (!request.getNodeId().isEmpty() && !request.getNodeId().equals(s.nodeId()))) {
                continue;
            }
            out.addReplicas(toProto(s, observed.get(s.uuid())));
        }
        response.onNext(out.build());
        response.onCompleted();
    }

    @Override
    public void createReplica(CreateReplicaRequest r, StreamObserver<Replica> response) {
        if (r.getSize() < 0) {
            throw new CoreException.InvalidArgument("size", "too large");
        }
        ReplicaSpec s = standalone.create(r.getUuid(), r.getNodeId(), r.getPoolId(), r.getSize(), r.getThin());
        reply(response, toProto(s, observedReplicas(registry).get(s.uuid())));
    }

    @Override
    public void destroyReplica(DestroyReplicaRequest r, StreamObserver<DestroyReplicaResponse> response) {
        standalone.destroy(r.getUuid(), r.getNodeId(), r.getPoolId());
        reply(response, DestroyReplicaResponse.getDefaultInstance());
    }

    @Override
    public void shareReplica(ShareReplicaRequest r, StreamObserver<Replica> response) {
        standalone.share(r.getUuid(), "", "", r.getAllowedHostsList());
        reply(response, current(r.getUuid()));
    }

    @Override
    public void unshareReplica(UnshareReplicaRequest r, StreamObserver<Replica> response) {
        standalone.unshare(r.getUuid(), "", "");
        reply(response, current(r.getUuid()));
    }

    private Replica current(String uuid) {
        ReplicaSpec s = replicas.all().stream().map(v -> v.spec()).filter(x -> x.uuid().equals(uuid)).findFirst()
                .orElseThrow(() -> new CoreException.NotFound("replica " + uuid + ": not found"));
        return toProto(s, observedReplicas(registry).get(uuid));
    }

    /** Every replica the Online nodes report, by uuid: one pass, so listing n replicas is not n scans of a node's list. */
    public static Map<String, ReplicaState> observedReplicas(NodeRegistry registry) {
        Map<String, ReplicaState> out = new HashMap<>();
        for (NodeState n : registry.all()) {
            if (n.status().isOnline()) {
                for (ReplicaState r : n.replicas()) {
                    out.put(r.uuid(), r);
                }
            }
        }
        return out;
    }

    public static Replica toProto(ReplicaSpec s, boolean present, String uri) {
        return Replica.newBuilder().setUuid(s.uuid()).setPoolId(s.poolId()).setNodeId(s.nodeId()).setSize(s.size())
                .setThin(s.thin()).setVolumeId(s.volumeId()).setOperation(ProtoMapping.operation(s.operation()))
                .setPresent(present).setUri(uri).build();
    }

    /** With what its node reports (null: not reported). */
    public static Replica toProto(ReplicaSpec s, ReplicaState observed) {
        if (observed == null || !observed.nodeId().equals(s.nodeId())) {
            return toProto(s, false, "");
        }
        return toProto(s, true, observed.uri()).toBuilder().setAllocated(observed.allocated())
                .addAllAllowedHosts(observed.allowedHosts()).build();
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
