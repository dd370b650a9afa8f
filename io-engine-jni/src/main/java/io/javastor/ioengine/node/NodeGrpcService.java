package io.javastor.ioengine.node;

import static io.javastor.ioengine.api.GrpcReplies.call;
import io.grpc.stub.StreamObserver;
import io.javastor.api.ioengine.v1.BlockDevice;
import io.javastor.api.ioengine.v1.GetNodeInfoRequest;
import io.javastor.api.ioengine.v1.ListBlockDevicesRequest;
import io.javastor.api.ioengine.v1.ListBlockDevicesResponse;
import io.javastor.api.ioengine.v1.NodeInfo;
import io.javastor.api.ioengine.v1.NodeRpcGrpc;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.IoEngineProperties;
import io.javastor.ioengine.api.EngineEndpoint;
import io.javastor.ioengine.pool.BlockDeviceInventory;
import org.springframework.stereotype.Service;

import java.io.IOException;

/** The io-engine's {@code NodeRpc} service: this node's identity and its block devices (where pools may go). */
@Service
public class NodeGrpcService extends NodeRpcGrpc.NodeRpcImplBase {
    public static final String VERSION = "0.1.0";

    private final IoEngineProperties props;
    private final EngineEndpoint endpoint;

    public NodeGrpcService(IoEngineProperties props, EngineEndpoint endpoint) {
        this.props = props;
        this.endpoint = endpoint;
    }

    @Override
    public void getNodeInfo(GetNodeInfoRequest request, StreamObserver<NodeInfo> out) {
        call(out, () -> NodeInfo.newBuilder().setNodeName(props.nodeName()).setNodeNqn(props.nodeNqn())
                .setVersion(VERSION).setGrpcEndpoint(endpoint.grpcEndpoint()).build());
    }

    @Override
    public void listBlockDevices(ListBlockDevicesRequest req, StreamObserver<ListBlockDevicesResponse> out) {
        call(out, () -> {
            var b = ListBlockDevicesResponse.newBuilder();
            try {
                for (var d : new BlockDeviceInventory(props.diskPolicy().toPolicy()).list(req.getAll())) {
                    b.addDevices(BlockDevice.newBuilder().setDevname(d.devname()).setDevtype(d.devtype())
                            .setDevmajor(d.major()).setDevminor(d.minor()).setModel(d.model()).setDevpath(d.devpath())
                            .addAllDevlinks(d.devlinks()).setSize(d.size()).setFilesystem(d.filesystem()).setMountpoint(d.mountpoint())
                            .setAvailable(d.available()).setReason(d.reason()));
                }
            } catch (IOException e) {
                throw new EngineException(EngineException.Kind.UNAVAILABLE,
                        "cannot read this node's block devices: " + e.getMessage(), e);
            }
            return b.build();
        });
    }
}
