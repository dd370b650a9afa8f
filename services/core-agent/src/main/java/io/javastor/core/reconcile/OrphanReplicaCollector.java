package io.javastor.core.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.ReplicaState;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Replicas a node reports that no spec wants (left by a crash between a node's create and the
 * spec write, or by a spec removed while the node was away) are destroyed once they have been
 * seen continuously for the grace period: long enough that an operation in flight is not raced.
 */
public final class OrphanReplicaCollector implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(OrphanReplicaCollector.class);

    private final SpecStore store;
    private final NodeRegistry registry;
    private final IoEngineConnections engines;
    private final EventHistory events;
    private final Clock clock;
    private final Duration grace;
    private final Map<String, Instant> firstSeen = new HashMap<>();

    public OrphanReplicaCollector(SpecStore store, NodeRegistry registry, IoEngineConnections engines, EventHistory events,
                                  Clock clock, Duration grace) {
        this.store = store;
        this.registry = registry;
        this.engines = engines;
        this.events = events;
        this.clock = clock;
        this.grace = grace;
    }

    @Override
    public String name() {
        return "orphan-replica-collector";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Set<String> wanted = new HashSet<>();
        for (Versioned<ReplicaSpec> r : store.list(ReplicaSpec.KIND)) {
            wanted.add(r.spec().uuid());
        }
        Instant now = clock.instant();
        Set<String> orphansNow = new HashSet<>();
        boolean failed = false;
        for (NodeState node : registry.all()) {
            if (!node.status().isOnline()) {
                continue;
            }
            for (ReplicaState r : node.replicas()) {
                if (wanted.contains(r.uuid())) {
                    continue;
                }
                String key = node.nodeId() + "/" + r.uuid();
                orphansNow.add(key);
                Instant seen = firstSeen.computeIfAbsent(key, k -> now);
                if (now.isBefore(seen.plus(grace))) {
                    continue; // the regular interval comes back for it
                }
                try {
                    engines.node(node.nodeId()).destroyReplica(r.uuid(), r.poolId());
                    events.record("replica", r.uuid(), "OrphanReplicaDestroyed", Severity.WARNING,
                            "replica on node " + node.nodeId() + " pool " + r.poolId() + " had no spec for " + grace + "; destroyed");
                    log.info("orphan replica destroyed uuid={} nodeId={}", r.uuid(), node.nodeId());
                    orphansNow.remove(key);
                } catch (CoreException.NotFound gone) {
                    orphansNow.remove(key);
                } catch (CoreException e) {
                    failed = true;
                    log.warn("orphan replica destroy failed uuid={} nodeId={}: {}", r.uuid(), node.nodeId(), e.getMessage());
                }
            }
        }
        firstSeen.keySet().retainAll(orphansNow);
        return ReconcileOutcome.busyIf(failed, "orphan replicas could not be destroyed");
    }
}
