package io.javastor.core.node;

import org.springframework.stereotype.Service;

import io.grpc.stub.StreamObserver;
import io.javastor.api.core.v1.ChildHealthAck;
import io.javastor.api.core.v1.ChildHealthReport;
import io.javastor.api.core.v1.DeregisterRequest;
import io.javastor.api.core.v1.DeregisterResponse;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegisterResponse;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.api.tls.PeerAuthorization;
import io.javastor.core.CoreAgentProperties;
import io.javastor.core.operation.CoreException;

/** io-engines call Register at start and every heartbeat interval; Deregister on orderly shutdown. */
@Service
public class RegistrationApi extends RegistrationGrpc.RegistrationImplBase {

    private final NodeRegistration registration;
    private final int heartbeatIntervalMs;
    private final ChildHealthReports childReports;

    /**
     * Where a target's reports on its children go once checked here: the nexus and reconcile packages keep what they
     * mean (they depend on this one). Throwing refuses the report: the target then does not acknowledge the write.
     */
    public interface ChildHealthReports {
        /** {@code faulted}: the child faulted for {@code reason}; else it was rebuilt. The nexus uuid is lowercase. */
        void childReported(String nodeId, String nexusUuid, String childUri, boolean faulted, String reason);
    }

    public RegistrationApi(NodeRegistration registration, CoreAgentProperties props, ChildHealthReports childReports) {
        this.registration = registration;
        this.childReports = childReports;
        this.heartbeatIntervalMs = (int) props.nodes().heartbeatInterval().toMillis();
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> response) {
        requireCallerIs(request.getNodeId());
        registration.register(new NodeRegistration.Registration(request.getNodeId(), request.getGrpcEndpoint(),
                request.getNodeNqn(), request.getNvmfEndpoint(), request.getVersion(), request.getLabelsMap(), request.getInstanceId()));
        response.onNext(RegisterResponse.newBuilder().setHeartbeatIntervalMs(heartbeatIntervalMs).build());
        response.onCompleted();
    }

    @Override
    public void deregister(DeregisterRequest request, StreamObserver<DeregisterResponse> response) {
        requireCallerIs(request.getNodeId());
        registration.deregister(request.getNodeId(), request.getInstanceId());
        response.onNext(DeregisterResponse.getDefaultInstance());
        response.onCompleted();
    }

    @Override
    public void reportChildFaulted(ChildHealthReport request, StreamObserver<ChildHealthAck> response) {
        childReport(request, true, response);
    }

    @Override
    public void reportChildRebuilt(ChildHealthReport request, StreamObserver<ChildHealthAck> response) {
        childReport(request, false, response);
    }

    /**
     * A node's certificate names its node id; it registers, heartbeats (a repeated Register) and reports for that
     * node only, so no one can rewrite another node's endpoint or NQN. (Without mTLS, explicitly off, anyone may.)
     */
    private static void requireCallerIs(String nodeId) {
        PeerAuthorization.current().ifPresent(peer -> {
            if (!peer.actsFor(nodeId)) {
                throw new CoreException.PermissionDenied("node " + nodeId + ": the caller's certificate names "
                        + peer.dnsName() + ", which may act only for itself");
            }
        });
    }

    private void childReport(ChildHealthReport r, boolean faulted, StreamObserver<ChildHealthAck> response) {
        if (r.getNodeId().isEmpty()) {
            throw new CoreException.InvalidArgument("node_id", "is required");
        }
        requireCallerIs(r.getNodeId());
        try {
            java.util.UUID.fromString(r.getNexusUuid());
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("nexus_uuid", "must be a UUID, got '" + r.getNexusUuid() + "'");
        }
        if (r.getChildUri().isEmpty()) {
            throw new CoreException.InvalidArgument("child_uri", "is required");
        }
        String nexus = r.getNexusUuid().toLowerCase();
        childReports.childReported(r.getNodeId(), nexus, r.getChildUri(), faulted, r.getReason());
        response.onNext(ChildHealthAck.getDefaultInstance());
        response.onCompleted();
    }
}
