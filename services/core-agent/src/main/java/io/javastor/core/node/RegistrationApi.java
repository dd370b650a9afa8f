package io.javastor.core.node;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.DeregisterRequest;
import io.javastor.api.core.v1.DeregisterResponse;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegisterResponse;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.core.CoreAgentProperties;

/** io-engines call Register at start and every heartbeat interval; Deregister on orderly shutdown. */
@Service
public class RegistrationApi extends RegistrationGrpc.RegistrationImplBase {

    private final NodeRegistration registration;
    private final int heartbeatIntervalMs;

    public RegistrationApi(NodeRegistration registration, CoreAgentProperties props) {
        this.registration = registration;
        this.heartbeatIntervalMs = (int) props.nodes().heartbeatInterval().toMillis();
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> response) {
        registration.register(new NodeRegistration.Registration(request.getNodeId(), request.getGrpcEndpoint(),
                request.getNodeNqn(), request.getNvmfEndpoint(), request.getVersion(), request.getLabelsMap()));
        response.onNext(RegisterResponse.newBuilder().setHeartbeatIntervalMs(heartbeatIntervalMs).build());
        response.onCompleted();
    }

    @Override
    public void deregister(DeregisterRequest request, StreamObserver<DeregisterResponse> response) {
        registration.deregister(request.getNodeId());
        response.onNext(DeregisterResponse.getDefaultInstance());
        response.onCompleted();
    }
}
