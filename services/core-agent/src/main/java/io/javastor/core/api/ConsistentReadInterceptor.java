package io.javastor.core.api;

import org.springframework.grpc.server.GlobalServerInterceptor;
import org.springframework.stereotype.Component;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.javastor.core.store.SpecStore;

/**
 * Serves the javastor.* Get and List calls from the agent's watch-fed copy of the specs ({@link SpecStore#consistentRead}):
 * on the leader's lease no etcd read at all, else one linearizable read of etcd's revision per call, instead of a round
 * trip per spec and listing it reads (a volume's view reads its spec, replicas, target, target info and snapshots). The
 * answers are what reading etcd gives.
 */
@Component
@GlobalServerInterceptor
public class ConsistentReadInterceptor implements ServerInterceptor {

    private final SpecStore store;

    public ConsistentReadInterceptor(SpecStore store, io.micrometer.core.instrument.MeterRegistry meters) {
        this.store = store;
        // How often the copy could serve (a high share from etcd means the watch lags or was lost: see the agent's log).
        io.micrometer.core.instrument.FunctionCounter.builder("javastor.agent.api.reads", store, s -> s.consistentReadCounts()[0])
                .tag("served_from", "watched_copy").description("Get/List calls answered from the watch-fed copy of the specs")
                .register(meters);
        io.micrometer.core.instrument.FunctionCounter.builder("javastor.agent.api.reads", store, s -> s.consistentReadCounts()[1])
                .tag("served_from", "etcd").description("Get/List calls that read etcd because the copy was behind or lost")
                .register(meters);
        io.micrometer.core.instrument.FunctionCounter.builder("javastor.agent.api.lease_reads", store, s -> s.consistentReadCounts()[2])
                .description("Get/List calls answered from the watch-fed copy on the leader's lease, without a read of etcd")
                .register(meters);
    }

    static boolean readOnly(String fullMethodName) {
        if (!fullMethodName.startsWith("javastor.")) {
            return false;
        }
        String method = fullMethodName.substring(fullMethodName.indexOf('/') + 1);
        return method.startsWith("Get") || method.startsWith("List");
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        ServerCall.Listener<Q> listener = next.startCall(call, headers);
        if (!readOnly(call.getMethodDescriptor().getFullMethodName())) {
            return listener;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onHalfClose() {
                // A unary call's handler runs here, on this thread.
                store.consistentRead(() -> {
                    super.onHalfClose();
                    return null;
                });
            }
        };
    }
}
