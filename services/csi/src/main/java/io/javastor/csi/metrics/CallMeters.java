package io.javastor.csi.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Times every CSI call by method and gRPC status code: {@code javastor.csi.calls} (Prometheus
 * {@code javastor_csi_calls_seconds_count/_sum/_max{method,code}}); errors are the series whose code is not OK.
 * Named like the core agent's domain meters (javastor.*).
 */
public final class CallMeters implements ServerInterceptor {
    public static final String METER = "javastor.csi.calls";
    private final MeterRegistry meters;

    public CallMeters(MeterRegistry meters) {
        this.meters = meters;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Timer.Sample sample = Timer.start(meters);
        // The bare method name (CreateVolume), as the CSI spec and the sidecars' own metrics name calls.
        String method = call.getMethodDescriptor().getBareMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                sample.stop(Timer.builder(METER).description("CSI calls served, by method and gRPC status code")
                        .tag("method", method == null ? "unknown" : method).tag("code", status.getCode().name())
                        .register(meters));
                super.close(status, trailers);
            }
        }, headers);
    }
}
