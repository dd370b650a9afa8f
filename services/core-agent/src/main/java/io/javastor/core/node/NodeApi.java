package io.javastor.core.node;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.CordonNodeRequest;
import io.javastor.api.core.v1.GetNodeRequest;
import io.javastor.api.core.v1.ListNodesRequest;
import io.javastor.api.core.v1.ListNodesResponse;
import io.javastor.api.core.v1.Node;
import io.javastor.api.core.v1.NodeServiceGrpc;
import io.javastor.api.core.v1.SetNodeLabelsRequest;
import io.javastor.api.core.v1.UncordonNodeRequest;
import io.javastor.core.api.ProtoMapping;

@Service
public class NodeApi extends NodeServiceGrpc.NodeServiceImplBase {

    private final NodeOperations nodes;
    private final NodeRegistry registry;
    private final IoEngineConnections engines;

    public NodeApi(NodeOperations nodes, NodeRegistry registry, IoEngineConnections engines) {
        this.nodes = nodes;
        this.registry = registry;
        this.engines = engines;
    }

    /** Asks the node's io-engine: it alone sees the node's devices (read each time, never kept). */
    @Override
    public void listBlockDevices(io.javastor.api.core.v1.ListBlockDevicesRequest request,
                                 StreamObserver<io.javastor.api.core.v1.ListBlockDevicesResponse> response) {
        String id = request.getNodeId();
        nodes.get(id); // NOT_FOUND naming the node
        if (!registry.get(id).map(n -> n.status().isOnline()).orElse(false)) {
            throw new io.javastor.core.operation.CoreException.Unavailable("node " + id + ": not Online; its block devices are read from its io-engine");
        }
        reply(response, io.javastor.api.core.v1.ListBlockDevicesResponse.newBuilder()
                .addAllDevices(engines.node(id).listBlockDevices(request.getAll())).build());
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> response) {
        ListNodesResponse.Builder out = ListNodesResponse.newBuilder();
        nodes.list().forEach(n -> out.addNodes(toProto(n)));
        reply(response, out.build());
    }

    @Override
    public void getNode(GetNodeRequest request, StreamObserver<Node> response) {
        reply(response, toProto(nodes.get(request.getId())));
    }

    @Override
    public void cordonNode(CordonNodeRequest request, StreamObserver<Node> response) {
        reply(response, toProto(nodes.cordon(request.getId(), request.getLabel())));
    }

    @Override
    public void uncordonNode(UncordonNodeRequest request, StreamObserver<Node> response) {
        reply(response, toProto(nodes.uncordon(request.getId(), request.getLabel())));
    }

    @Override
    public void drainNode(io.javastor.api.core.v1.DrainNodeRequest request, StreamObserver<Node> response) {
        reply(response, toProto(nodes.drain(request.getId(), request.getLabel())));
    }

    @Override
    public void setNodeLabels(SetNodeLabelsRequest request, StreamObserver<Node> response) {
        reply(response, toProto(nodes.setLabels(request.getId(), request.getLabelsMap())));
    }

    private Node toProto(NodeSpec spec) {
        Node.Builder b = Node.newBuilder().setId(spec.id()).setGrpcEndpoint(spec.grpcEndpoint())
                .setNodeNqn(nullToEmpty(spec.nodeNqn())).setNvmfEndpoint(nullToEmpty(spec.nvmfEndpoint()))
                .setVersion(nullToEmpty(spec.version())).addAllCordonLabels(spec.cordonLabels()).putAllLabels(spec.labels())
                .addAllDrainLabels(spec.drainLabels()).setDrainState(switch (nodes.drainState(spec)) {
                    case NONE -> io.javastor.api.core.v1.DrainState.DRAIN_STATE_NONE;
                    case DRAINING -> io.javastor.api.core.v1.DrainState.DRAIN_STATE_DRAINING;
                    case DRAINED -> io.javastor.api.core.v1.DrainState.DRAIN_STATE_DRAINED;
                })
                .setStatus(io.javastor.api.core.v1.NodeStatus.NODE_STATUS_UNKNOWN);
        registry.get(spec.id()).ifPresent(state -> {
            if (state.status() instanceof NodeStatus.Online o) {
                b.setStatus(io.javastor.api.core.v1.NodeStatus.NODE_STATUS_ONLINE).setLastHeartbeat(ProtoMapping.timestamp(o.lastHeartbeat()));
            } else if (state.status() instanceof NodeStatus.Offline o) {
                b.setStatus(io.javastor.api.core.v1.NodeStatus.NODE_STATUS_OFFLINE).setLastHeartbeat(ProtoMapping.timestamp(o.lastHeartbeat()));
            }
        });
        return b.build();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
