package io.javastor.core.appnode;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.AppNode;
import io.javastor.api.core.v1.AppNodeServiceGrpc;
import io.javastor.api.core.v1.DeregisterAppNodeRequest;
import io.javastor.api.core.v1.DeregisterAppNodeResponse;
import io.javastor.api.core.v1.GetAppNodeRequest;
import io.javastor.api.core.v1.ListAppNodesRequest;
import io.javastor.api.core.v1.ListAppNodesResponse;
import io.javastor.api.core.v1.RegisterAppNodeRequest;

/** app_node.proto's AppNodeService over {@link AppNodes}. */
@Service
public class AppNodeApi extends AppNodeServiceGrpc.AppNodeServiceImplBase {

    private final AppNodes appNodes;

    public AppNodeApi(AppNodes appNodes) {
        this.appNodes = appNodes;
    }

    @Override
    public void registerAppNode(RegisterAppNodeRequest r, StreamObserver<AppNode> response) {
        reply(response, toProto(appNodes.register(r.getId(), r.getEndpoint(), r.getLabelsMap())));
    }

    @Override
    public void deregisterAppNode(DeregisterAppNodeRequest r, StreamObserver<DeregisterAppNodeResponse> response) {
        appNodes.deregister(r.getId());
        reply(response, DeregisterAppNodeResponse.getDefaultInstance());
    }

    @Override
    public void getAppNode(GetAppNodeRequest r, StreamObserver<AppNode> response) {
        reply(response, toProto(appNodes.get(r.getId())));
    }

    @Override
    public void listAppNodes(ListAppNodesRequest r, StreamObserver<ListAppNodesResponse> response) {
        // uint32/uint64 beyond Java's signed range arrive negative and fail validation by field.
        AppNodes.Page page = appNodes.list(r.getMaxEntries(), r.getStartingToken());
        ListAppNodesResponse.Builder out = ListAppNodesResponse.newBuilder();
        page.appNodes().forEach(a -> out.addAppNodes(toProto(a)));
        page.nextToken().ifPresent(out::setNextToken);
        reply(response, out.build());
    }

    private static AppNode toProto(AppNodeSpec a) {
        return AppNode.newBuilder().setId(a.id()).setEndpoint(a.endpoint()).putAllLabels(a.labels()).build();
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }
}
