package io.javastor.core.node;

import java.time.Clock;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.ioengine.v1.Pool;
import io.javastor.api.ioengine.v1.Replica;
import io.javastor.core.operation.CoreException;

/**
 * Reads pools, replicas and nexuses from io-engines into the {@link NodeRegistry}: every Online node on an
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

    /** Reads one node's pools, replicas and nexuses now. */
    public NodeState refresh(String nodeId) {
        long changesBefore = registry.get(nodeId).map(NodeState::changes).orElse(0L);
        IoEngineClient engine = connections.node(nodeId);
        List<PoolState> pools = engine.listPools().stream().map(p -> toState(nodeId, p)).toList();
        List<ReplicaState> replicas = engine.listReplicas().stream().map(r -> toState(nodeId, r)).toList();
        List<NexusState> nexuses = engine.listNexus().stream().map(n -> toState(nodeId, n)).toList();
        registry.update(nodeId, s -> s.withPolledInventory(changesBefore, pools, replicas, nexuses, clock.instant()));
        return registry.get(nodeId).orElseThrow();
    }

    /** After a nexus change on a node: the nexus as the io-engine just answered it. */
    public void nexusChanged(String nodeId, io.javastor.api.ioengine.v1.Nexus now) {
        NexusState n = toState(nodeId, now);
        registry.update(nodeId, s -> s.withNexus(n.uuid(), java.util.Optional.of(n)));
    }

    /** After a nexus was destroyed on a node. */
    public void nexusGone(String nodeId, String uuid) {
        registry.update(nodeId, s -> s.withNexus(uuid, java.util.Optional.empty()));
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

    public static NexusState toState(String nodeId, io.javastor.api.ioengine.v1.Nexus n) {
        NexusState.Health state = switch (n.getState()) {
            case NEXUS_STATE_ONLINE -> NexusState.Health.ONLINE;
            case NEXUS_STATE_DEGRADED -> NexusState.Health.DEGRADED;
            case NEXUS_STATE_FAULTED -> NexusState.Health.FAULTED;
            case NEXUS_STATE_SHUTTING_DOWN -> NexusState.Health.SHUTTING_DOWN;
            case NEXUS_STATE_SHUTDOWN -> NexusState.Health.SHUTDOWN;
            default -> NexusState.Health.UNKNOWN;
        };
        List<NexusState.Child> children = n.getChildrenList().stream().map(c -> new NexusState.Child(c.getUri(), switch (c.getState()) {
            case CHILD_STATE_ONLINE -> NexusState.Health.ONLINE;
            case CHILD_STATE_DEGRADED -> NexusState.Health.DEGRADED;
            case CHILD_STATE_FAULTED -> NexusState.Health.FAULTED;
            default -> NexusState.Health.UNKNOWN;
        }, c.getRebuildProgress())).toList();
        return new NexusState(n.getUuid(), nodeId, n.getSize(), state, children, n.getDeviceUri(), n.getAllowedHostsList(), n.getRebuilds());
    }

    public static ReplicaState toState(String nodeId, Replica r) {
        return new ReplicaState(r.getUuid(), r.getPool(), nodeId, r.getSize(), r.getThin(), r.getUri(), r.getAllocated(),
                r.getAllowedHostsList());
    }
}
