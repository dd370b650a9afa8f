package io.javastor.ioengine.node;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.ioengine.IoEngineProperties;
import jakarta.annotation.PreDestroy;
import org.springframework.stereotype.Component;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC channels to the core agent(s) named by {@code javastor.io-engine.core-agent-endpoint} (comma-separated).
 * Only the leader answers; a caller that gets UNAVAILABLE moves everyone on to the next agent with {@link #next}.
 */
@Component
public class CoreAgentChannels {
    private final List<String> endpoints;
    private final List<ManagedChannel> channels;
    private final AtomicInteger current = new AtomicInteger();

    public CoreAgentChannels(IoEngineProperties props, ClusterTls tls) {
        endpoints = Arrays.stream(props.coreAgentEndpoint().split(",")).map(String::trim).filter(e -> !e.isEmpty()).toList();
        // round_robin: one DNS name for several agents (a headless Service) also reaches the leader in turn.
        channels = endpoints.stream()
                .map(e -> (ManagedChannel) tls.channelTo(e, ClusterPeer.CORE_AGENT).defaultLoadBalancingPolicy("round_robin").build())
                .toList();
    }

    /** False when the io-engine runs standalone. */
    public boolean configured() {
        return !channels.isEmpty();
    }

    public ManagedChannel channel() {
        return channels.get(Math.floorMod(current.get(), channels.size()));
    }

    public String endpoint() {
        return endpoints.get(Math.floorMod(current.get(), endpoints.size()));
    }

    /** The agent at {@code seen} did not answer as leader: try the next one (once per failure, whoever noticed it). */
    public void next(ManagedChannel seen) {
        int i = current.get();
        if (channels.get(Math.floorMod(i, channels.size())) == seen) {
            current.compareAndSet(i, i + 1);
        }
    }

    @PreDestroy
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
    }
}
