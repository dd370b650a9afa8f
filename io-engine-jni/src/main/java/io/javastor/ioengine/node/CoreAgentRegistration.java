package io.javastor.ioengine.node;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.DeregisterRequest;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegisterResponse;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.ioengine.IoEngineProperties;
import io.javastor.ioengine.api.EngineEndpoint;
import io.javastor.ioengine.api.IoEngineGrpcService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Registers this node with the core agent and keeps re-registering: each call is the heartbeat.
 * Standalone (no core agent configured) it does nothing. Failures are logged once per outage.
 */
@Component
public class CoreAgentRegistration {
    private static final Logger LOG = LoggerFactory.getLogger(CoreAgentRegistration.class);

    private final IoEngineProperties props;
    private final EngineEndpoint endpoint;
    private ScheduledExecutorService timer;
    private ManagedChannel channel;
    private volatile long intervalMs;
    private volatile boolean registered;

    public CoreAgentRegistration(IoEngineProperties props, EngineEndpoint endpoint) {
        this.props = props;
        this.endpoint = endpoint;
        this.intervalMs = props.registrationInterval().toMillis();
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        if (props.coreAgentEndpoint().isBlank()) {
            LOG.info("node={} no core agent configured; running standalone", props.nodeName());
            return;
        }
        channel = ManagedChannelBuilder.forTarget(props.coreAgentEndpoint()).usePlaintext().build();
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "registration");
            t.setDaemon(true);
            return t;
        });
        timer.execute(this::registerAndReschedule);
    }

    private void registerAndReschedule() {
        try {
            RegisterResponse resp = RegistrationGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .register(RegisterRequest.newBuilder().setNodeId(props.nodeName()).setGrpcEndpoint(endpoint.grpcEndpoint())
                            .setNodeNqn(props.nodeNqn()).setVersion(IoEngineGrpcService.VERSION).build());
            if (resp.getHeartbeatIntervalMs() > 0) {
                intervalMs = resp.getHeartbeatIntervalMs();
            }
            if (!registered) {
                LOG.info("node={} registered with core agent {} (heartbeat every {} ms)", props.nodeName(), props.coreAgentEndpoint(), intervalMs);
            }
            registered = true;
        } catch (StatusRuntimeException e) {
            if (registered || !e.getStatus().getCode().equals(io.grpc.Status.Code.UNAVAILABLE)) {
                LOG.warn("node={} registration with core agent {} failed: {}", props.nodeName(), props.coreAgentEndpoint(), e.getStatus());
            }
            registered = false;
        } finally {
            if (!timer.isShutdown()) {
                timer.schedule(this::registerAndReschedule, intervalMs, TimeUnit.MILLISECONDS);
            }
        }
    }

    public boolean isRegistered() {
        return registered;
    }

    @jakarta.annotation.PreDestroy
    public void stop() {
        if (timer == null) {
            return;
        }
        timer.shutdownNow();
        try {
            RegistrationGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .deregister(DeregisterRequest.newBuilder().setNodeId(props.nodeName()).build());
        } catch (StatusRuntimeException e) {
            LOG.info("node={} deregistration skipped: {}", props.nodeName(), e.getStatus());
        }
        channel.shutdownNow();
    }
}
