package io.javastor.core.node;

import java.time.Clock;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.ioengine.v1.Pool;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.core.CoreException;

/**
 * Reads pools and replicas from io-engines into the {@link NodeRegistry}: every Online node on an
 * interval (driven by the reconcile poller) and one node on demand after a change there.
 */
public final class NodeStatePoller {

    private static final Logger log = LoggerFactory.getLogger(NodeStatePoller.class);

    private final NodeRegistry registry;
    private final IoEngineConnections connections;
    private final Clock clock;

    public NodeStatePoller(NodeRegistry registry, IoEngineConnections connections, Clock clock) {
        this.registry = registry;
        this.connections = connections;
        this.clock = clock;
    }

    /** Polls every Online node; a node that does not answer keeps its last inventory (its heartbeat decides liveness). */
    public void pollOnlineNodes() {
        for (NodeState node : registry.all()) {
            if (node.status().isOnline()) {
                try {
                    refresh(node.nodeId());
                } catch (CoreException e) {
                    log.warn("state poll failed nodeId={}: {}", node.nodeId(), e.getMessage());
                }
            }
        }
    }

    /** Polls the Online nodes whose inventory has not been read since they came Online. */
    public void pollUnobservedNodes() {
        for (NodeState node : registry.all()) {
            if (node.status().isOnline() && !node.inventoryKnown()) {
                try {
                    refresh(node.nodeId());
                } catch (CoreException e) {
                    log.warn("state poll failed nodeId={}: {}", node.nodeId(), e.getMessage());
                }
            }
        }
    }

    /** Reads one node's pools and replicas now. */
    public NodeState refresh(String nodeId) {
        IoEngineClient engine = connections.node(nodeId);
        List<PoolState> pools = engine.listPools().stream().map(p -> toState(nodeId, p)).toList();
        List<ReplicaState> replicas = engine.listReplicas().stream().map(r -> toState(nodeId, r)).toList();
        registry.update(nodeId, s -> s.withInventory(pools, replicas, clock.instant()));
        return registry.get(nodeId).orElseThrow();
    }

    /** After a replica change on a node: its pools (capacity) are re-read, and the replica is folded in or out. */
    public void replicaChanged(String nodeId, Replica created, String destroyedUuid) {
        List<PoolState> pools = connections.node(nodeId).listPools().stream().map(p -> toState(nodeId, p)).toList();
        registry.update(nodeId, s -> {
            java.util.stream.Stream<ReplicaState> replicas = s.replicas().stream()
                    .filter(r -> !r.uuid().equals(destroyedUuid) && (created == null || !r.uuid().equals(created.getUuid())));
            if (created != null) {
                replicas = java.util.stream.Stream.concat(replicas, java.util.stream.Stream.of(toState(nodeId, created)));
            }
            // Keep "never polled" as it was: only a full refresh makes the inventory known.
            return s.withInventory(pools, replicas.toList(), s.observedAt());
        });
    }

    /** Folds one pool as an io-engine just returned it into the registry (after a create). */
    public void observed(String nodeId, Pool pool) {
        PoolState p = toState(nodeId, pool);
        registry.update(nodeId, s -> s.withInventory(
                java.util.stream.Stream.concat(s.pools().stream().filter(x -> !x.id().equals(p.id())), java.util.stream.Stream.of(p)).toList(),
                s.replicas(), clock.instant()));
    }

    public static PoolState toState(String nodeId, Pool p) {
        PoolState.Health health = switch (p.getStatus()) {
            case POOL_STATUS_ONLINE -> PoolState.Health.ONLINE;
            case POOL_STATUS_DEGRADED -> PoolState.Health.DEGRADED;
            case POOL_STATUS_FAULTED -> PoolState.Health.FAULTED;
            default -> PoolState.Health.UNKNOWN;
        };
        return new PoolState(p.getName(), nodeId, List.copyOf(p.getDisksList()), health, p.getCapacity(), p.getUsed(),
                p.getCommitted());
    }

    public static ReplicaState toState(String nodeId, Replica r) {
        return new ReplicaState(r.getUuid(), r.getPool(), nodeId, r.getSize(), r.getThin(), r.getUri(), r.getAllocated(),
                r.getAllowedHostsList());
    }
}
