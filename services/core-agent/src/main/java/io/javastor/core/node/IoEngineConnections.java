package io.javastor.core.node;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.javastor.api.tls.ClusterPeer;
import io.javastor.api.tls.ClusterTls;
import io.javastor.core.operation.CoreException;

/** One gRPC channel per io-engine endpoint, reused across calls; replaced when a node moves. */
public final class IoEngineConnections implements AutoCloseable {

    private record Connection(String endpoint, ManagedChannel channel) {}

    private final NodeRegistry registry;
    private final Duration callTimeout;
    private final ClusterTls tls;
    private final ConcurrentHashMap<String, Connection> connections = new ConcurrentHashMap<>();

    public IoEngineConnections(NodeRegistry registry, Duration callTimeout, ClusterTls tls) {
        this.registry = registry;
        this.callTimeout = callTimeout;
        this.tls = tls;
    }

    /** The io-engine of a node this agent knows of (registered, or loaded from its spec). */
    public IoEngineClient node(String nodeId) {
        NodeState state = registry.get(nodeId)
                .orElseThrow(() -> new CoreException.Unavailable("node " + nodeId + ": not known to this agent"));
        String endpoint = state.grpcEndpoint();
        Connection c = connections.compute(nodeId, (id, old) -> {
            if (old != null && old.endpoint().equals(endpoint)) {
                return old;
            }
            if (old != null) {
                old.channel().shutdown();
            }
            // The engine must prove it is this node's, whatever address it registered.
            return new Connection(endpoint, tls.channelTo(endpoint, new ClusterPeer.Node(nodeId)).build());
        });
        return new IoEngineClient(nodeId, c.channel(), callTimeout);
    }

    /**
     * A node that just registered (back Online, or a new process) is listening again: the next call gets a new channel
     * instead of the old one's reconnect back-off (up to minutes) from when it was gone. Resetting the old channel's
     * back-off was not enough: a call made right after still found it in TRANSIENT_FAILURE and failed at once
     * (UNAVAILABLE), so the inventory re-read that follows a restart failed and the node's pools stayed "not Online"
     * until the next poll. Calls in flight on the old channel finish (it shuts down gracefully).
     */
    public void reconnect(String nodeId) {
        Connection c = connections.remove(nodeId);
        if (c != null) {
            c.channel().shutdown();
        }
    }

    @Override
    public void close() {
        for (Connection c : connections.values()) {
            c.channel().shutdown();
        }
        for (Connection c : connections.values()) {
            try {
                c.channel().awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
