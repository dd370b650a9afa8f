package io.javastor.core.api;

import org.springframework.grpc.server.GlobalServerInterceptor;
import org.springframework.stereotype.Component;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.javastor.core.leader.LeaderElection;

/**
 * Only the leader serves the javastor.* APIs; others answer UNAVAILABLE so callers retry (behind a
 * Service, readiness already steers them to the leader). gRPC health and reflection stay open.
 */
@Component
@GlobalServerInterceptor
public class LeaderOnlyInterceptor implements ServerInterceptor {

    private final LeaderElection election;

    public LeaderOnlyInterceptor(LeaderElection election) {
        this.election = election;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (call.getMethodDescriptor().getFullMethodName().startsWith("javastor.") && !election.isLeader()) {
            call.close(Status.UNAVAILABLE.withDescription("agent " + election.agentId() + " is not the leader; retry"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
    }
}
