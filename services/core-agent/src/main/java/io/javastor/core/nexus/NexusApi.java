package io.javastor.core.nexus;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.AddNexusChildRequest;
import io.javastor.api.core.v1.ChildStatus;
import io.javastor.api.core.v1.CreateNexusRequest;
import io.javastor.api.core.v1.DestroyNexusRequest;
import io.javastor.api.core.v1.DestroyNexusResponse;
import io.javastor.api.core.v1.GetNexusRequest;
import io.javastor.api.core.v1.ListNexusesRequest;
import io.javastor.api.core.v1.ListNexusesResponse;
import io.javastor.api.core.v1.Nexus;
import io.javastor.api.core.v1.NexusChild;
import io.javastor.api.core.v1.NexusProtocol;
import io.javastor.api.core.v1.NexusServiceGrpc;
import io.javastor.api.core.v1.NexusStatus;
import io.javastor.api.core.v1.OperationStatus;
import io.javastor.api.core.v1.RemoveNexusChildRequest;
import io.javastor.api.core.v1.ShareNexusRequest;
import io.javastor.api.core.v1.UnshareNexusRequest;
import io.javastor.core.operation.CoreException;
import io.javastor.core.api.ProtoMapping;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.node.NodeState;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Nexuses as the Online nodes report them (the observed inventory), each with what the specs say of it (owner
 * volume, operation); and nexuses outside volumes, made and changed on request.
 */
@Service
public class NexusApi extends NexusServiceGrpc.NexusServiceImplBase {

    private final NodeRegistry registry;
    private final SpecStore store;
    private final StandaloneNexuses standalone;

    public NexusApi(NodeRegistry registry, SpecStore store, StandaloneNexuses standalone) {
        this.registry = registry;
        this.store = store;
        this.standalone = standalone;
    }

    @Override
    public void listNexuses(ListNexusesRequest request, StreamObserver<ListNexusesResponse> response) {
        String node = request.getNodeId();
        if (!node.isEmpty() && store.get(NodeSpec.KIND, node).isEmpty()) {
            throw new CoreException.NotFound("node " + node + ": not found");
        }
        Map<String, NexusSpec> specs = new HashMap<>();
        store.list(NexusSpec.KIND).forEach(v -> specs.put(v.spec().uuid(), v.spec()));
        ListNexusesResponse.Builder out = ListNexusesResponse.newBuilder();
        for (NodeState n : registry.all()) {
            if (n.status().isOnline() && (node.isEmpty() || node.equals(n.nodeId()))) {
                n.nexuses().stream().sorted(java.util.Comparator.comparing(NexusState::uuid))
                        .forEach(x -> out.addNexuses(toProto(x, Optional.ofNullable(specs.get(x.uuid())))));
            }
        }
        reply(response, out.build());
    }

    @Override
    public void getNexus(GetNexusRequest r, StreamObserver<Nexus> response) {
        StandaloneNexuses.requireUuid(r.getUuid());
        reply(response, observed(r.getUuid(), r.getNodeId()));
    }

    @Override
    public void createNexus(CreateNexusRequest r, StreamObserver<Nexus> response) {
        if (r.getSize() < 0) {
            throw new CoreException.InvalidArgument("size", "too large");
        }
        NexusSpec s = standalone.create(r.getUuid(), r.getNodeId(), r.getSize(), r.getChildrenList());
        reply(response, current(s));
    }

    @Override
    public void destroyNexus(DestroyNexusRequest r, StreamObserver<DestroyNexusResponse> response) {
        standalone.destroy(r.getUuid(), r.getNodeId());
        reply(response, DestroyNexusResponse.getDefaultInstance());
    }

    @Override
    public void addNexusChild(AddNexusChildRequest r, StreamObserver<Nexus> response) {
        reply(response, current(standalone.addChild(r.getUuid(), r.getNodeId(), r.getUri())));
    }

    @Override
    public void removeNexusChild(RemoveNexusChildRequest r, StreamObserver<Nexus> response) {
        reply(response, current(standalone.removeChild(r.getUuid(), r.getNodeId(), r.getUri())));
    }

    @Override
    public void shareNexus(ShareNexusRequest r, StreamObserver<Nexus> response) {
        reply(response, current(standalone.share(r.getUuid(), r.getNodeId(), r.getAllowedHostsList())));
    }

    @Override
    public void unshareNexus(UnshareNexusRequest r, StreamObserver<Nexus> response) {
        reply(response, current(standalone.unshare(r.getUuid(), r.getNodeId())));
    }

    private Nexus observed(String uuid, String nodeId) {
        for (NodeState n : registry.all()) {
            if (n.status().isOnline() && (nodeId.isEmpty() || nodeId.equals(n.nodeId()))) {
                Optional<NexusState> x = n.nexus(uuid);
                if (x.isPresent()) {
                    return toProto(x.get(), store.get(NexusSpec.KIND, uuid).map(Versioned::spec));
                }
            }
        }
        throw new CoreException.NotFound("nexus " + uuid + (nodeId.isEmpty() ? "" : " on node " + nodeId) + ": not found");
    }

    /** As the node reports it just after the change; from the spec alone when the node's report lacks it. */
    private Nexus current(NexusSpec s) {
        Optional<NexusState> x = registry.get(s.nodeId()).flatMap(n -> n.nexus(s.uuid()));
        if (x.isPresent()) {
            return toProto(x.get(), Optional.of(s));
        }
        return Nexus.newBuilder().setUuid(s.uuid()).setNodeId(s.nodeId()).setSize(s.size()).setStatus(NexusStatus.NEXUS_STATUS_UNKNOWN)
                .addAllChildren(s.childUris().stream().map(u -> NexusChild.newBuilder().setUri(u).setStatus(ChildStatus.CHILD_STATUS_UNKNOWN).build()).toList())
                .setDeviceUri(s.uri()).setProtocol(s.uri().isEmpty() ? NexusProtocol.NEXUS_PROTOCOL_NONE : NexusProtocol.NEXUS_PROTOCOL_NVMF)
                .setVolumeId(s.ofVolume() ? s.volumeId() : "").addAllAllowedHosts(s.allowedHosts())
                .setOperation(ProtoMapping.operation(s.operation())).build();
    }

    public static Nexus toProto(NexusState x, Optional<NexusSpec> spec) {
        Nexus.Builder b = Nexus.newBuilder().setUuid(x.uuid()).setNodeId(x.nodeId()).setSize(x.size()).setStatus(switch (x.state()) {
            case ONLINE -> NexusStatus.NEXUS_STATUS_ONLINE;
            case DEGRADED -> NexusStatus.NEXUS_STATUS_DEGRADED;
            case FAULTED -> NexusStatus.NEXUS_STATUS_FAULTED;
            case SHUTTING_DOWN, SHUTDOWN -> NexusStatus.NEXUS_STATUS_SHUTDOWN;
            case UNKNOWN -> NexusStatus.NEXUS_STATUS_UNKNOWN;
        }).setDeviceUri(x.deviceUri()).setProtocol(x.deviceUri().isEmpty() ? NexusProtocol.NEXUS_PROTOCOL_NONE : NexusProtocol.NEXUS_PROTOCOL_NVMF)
                .setRebuilds(x.rebuilds()).addAllAllowedHosts(x.allowedHosts())
                .setOperation(spec.map(s -> ProtoMapping.operation(s.operation())).orElse(OperationStatus.OPERATION_STATUS_UNKNOWN))
                .setVolumeId(spec.filter(NexusSpec::ofVolume).map(NexusSpec::volumeId).orElse(""));
        for (NexusState.Child c : x.children()) {
            b.addChildren(NexusChild.newBuilder().setUri(c.uri()).setRebuildProgress(c.rebuildProgress()).setStatus(switch (c.state()) {
                case ONLINE -> ChildStatus.CHILD_STATUS_ONLINE;
                case DEGRADED -> ChildStatus.CHILD_STATUS_DEGRADED;
                case FAULTED -> ChildStatus.CHILD_STATUS_FAULTED;
                default -> ChildStatus.CHILD_STATUS_UNKNOWN;
            }));
        }
        return b.build();
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
