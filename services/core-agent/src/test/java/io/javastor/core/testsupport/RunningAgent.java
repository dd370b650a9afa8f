package io.javastor.core.testsupport;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.testsupport.ClusterCertificates;
import io.javastor.core.CoreAgentApplication;

/**
 * A whole core agent (the Spring Boot app) in this JVM, on random loopback ports, with a gRPC
 * channel to it. Several can run side by side against one etcd, like separate replicas would.
 */
public final class RunningAgent implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final ManagedChannel channel;
    private final Map<ClusterPeer, ManagedChannel> others = new HashMap<>();

    private RunningAgent(ConfigurableApplicationContext context) {
        this.context = context;
        int port = Integer.parseInt(context.getEnvironment().getProperty("local.grpc.port"));
        // The tests call the agent's API as the REST gateway does (the peer it serves that API to).
        this.channel = ClusterCertificates.shared().of(ClusterPeer.REST_GATEWAY).channelTo("127.0.0.1:" + port, ClusterPeer.CORE_AGENT).build();
    }

    /**
     * Starts an agent. Defaults: short heartbeat timeout and reconcile interval, embedded H2 named
     * after the agent; {@code overrides} win.
     */
    public static RunningAgent start(String etcdEndpoint, String cluster, String agentId, Map<String, String> overrides) {
        Map<String, Object> props = new HashMap<>();
        props.put("spring.grpc.server.address", "127.0.0.1:0");
        props.put("server.port", "0");
        props.put("javastor.core.etcd.endpoints", etcdEndpoint);
        props.put("javastor.core.cluster", cluster);
        props.put("javastor.core.agent-id", agentId);
        props.put("javastor.core.leader.ttl", "2s");
        props.put("javastor.core.nodes.heartbeat-interval", "300ms");
        props.put("javastor.core.nodes.heartbeat-timeout", "1500ms");
        // Generous: a nexus create connects its remote children (TLS-free NVMe/TCP, but DH-HMAC-CHAP both ways); on a
        // loaded 2-core CI machine 2 s was seen to run out (NodeLossTest). A dead node answers at once either way.
        props.put("javastor.core.nodes.call-timeout", "5s");
        props.put("javastor.core.reconcile.interval", "200ms");
        props.put("spring.datasource.url", "jdbc:h2:mem:" + agentId + ";DB_CLOSE_DELAY=-1");
        props.putAll(ClusterCertificates.shared().springProperties(ClusterPeer.CORE_AGENT)); // mTLS, as in production
        props.putAll(overrides);
        String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
        return new RunningAgent(new SpringApplicationBuilder(CoreAgentApplication.class).run(args));
    }

    public int grpcPort() {
        return Integer.parseInt(context.getEnvironment().getProperty("local.grpc.port"));
    }

    public ManagedChannel channel() {
        return channel;
    }

    /** A channel proving itself as {@code peer} (a node registering, a CSI node reporting a path), kept until close. */
    public synchronized ManagedChannel channelAs(ClusterPeer peer) {
        return others.computeIfAbsent(peer, p -> ClusterCertificates.shared().of(p)
                .channelTo("127.0.0.1:" + grpcPort(), ClusterPeer.CORE_AGENT).build());
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    /** One of several beans of a type, by its name (the volume guard among the operation guards). */
    public <T> T bean(String name, Class<T> type) {
        return context.getBean(name, type);
    }

    public int httpPort() {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    public boolean isRunning() {
        return context.isActive();
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        for (ManagedChannel c : others.values()) {
            c.shutdownNow();
        }
        if (context.isActive()) {
            context.close();
        }
    }
}
