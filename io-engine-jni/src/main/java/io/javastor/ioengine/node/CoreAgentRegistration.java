package io.javastor.ioengine.node;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.javastor.api.core.v1.DeregisterRequest;
import io.javastor.api.core.v1.RegisterRequest;
import io.javastor.api.core.v1.RegisterResponse;
import io.javastor.api.core.v1.RegistrationGrpc;
import io.javastor.ioengine.IoEngineProperties;
import io.javastor.ioengine.api.EngineEndpoint;
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
 * With several agents (comma-separated endpoints) only the leader accepts: an UNAVAILABLE answer moves
 * the heartbeat to the next agent.
 */
@Component
public class CoreAgentRegistration {
    private static final Logger LOG = LoggerFactory.getLogger(CoreAgentRegistration.class);

    private final IoEngineProperties props;
    private final EngineEndpoint endpoint;
    private final CoreAgentChannels agents;
    /** Tells the agent this is a new process, though no heartbeat was missed (a kill and a quick restart). */
    private final String instanceId = java.util.UUID.randomUUID().toString();
    private ScheduledExecutorService timer;
    private volatile long intervalMs;
    private volatile boolean registered;

    public CoreAgentRegistration(IoEngineProperties props, EngineEndpoint endpoint, CoreAgentChannels agents) {
        this.agents = agents;
        this.props = props;
        this.endpoint = endpoint;
        this.intervalMs = props.registrationInterval().toMillis();
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        if (!agents.configured()) {
            LOG.info("node={} no core agent configured; running standalone", props.nodeName());
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "registration");
            t.setDaemon(true);
            return t;
        });
        timer.execute(this::registerAndReschedule);
    }

    private void registerAndReschedule() {
        ManagedChannel channel = agents.channel();
        String agent = agents.endpoint();
        try {
            RegisterResponse resp = RegistrationGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .register(RegisterRequest.newBuilder().setNodeId(props.nodeName()).setGrpcEndpoint(endpoint.grpcEndpoint())
                            .setNodeNqn(props.nodeNqn()).setVersion(NodeGrpcService.VERSION).setInstanceId(instanceId).build());
            if (resp.getHeartbeatIntervalMs() > 0) {
                intervalMs = resp.getHeartbeatIntervalMs();
            }
            if (!registered) {
                // ./javastor up waits for this line in a running node's log (wait_registered): keep it
                LOG.info("node={} registered with core agent {} (heartbeat every {} ms) instance={}", props.nodeName(), agent, intervalMs,
                        instanceId);
            }
            registered = true;
        } catch (StatusRuntimeException e) {
            if (registered || !e.getStatus().getCode().equals(io.grpc.Status.Code.UNAVAILABLE)) {
                LOG.warn("node={} registration with core agent {} failed: {}", props.nodeName(), agent, e.getStatus());
            }
            registered = false;
            if (e.getStatus().getCode().equals(io.grpc.Status.Code.UNAVAILABLE)) {
                agents.next(channel); // a follower or a dead agent: try the next one
            }
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
            RegistrationGrpc.newBlockingStub(agents.channel()).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .deregister(DeregisterRequest.newBuilder().setNodeId(props.nodeName()).setInstanceId(instanceId).build());
        } catch (StatusRuntimeException e) {
            LOG.info("node={} deregistration skipped: {}", props.nodeName(), e.getStatus());
        }
    }
}
