package io.javastor.core.pool;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.ioengine.v1.Pool;
import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/** Pool create and destroy: spec first, then the node; each step repeatable by the reconciler. */
public final class PoolOperations {

    private static final Logger log = LoggerFactory.getLogger(PoolOperations.class);
    private static final Pattern POOL_ID = io.javastor.api.naming.ResourceIds.POOL_ID;
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final SpecStore store;
    private final OperationGuard guard;
    private final IoEngineConnections engines;
    private final NodeRegistry registry;
    private final NodeStatePoller poller;
    private final EventHistory events;
    private final PoolReplicas poolReplicas;

    /** The replicas a pool holds: a pool is destroyed only empty. The replica package answers (it depends on this one). */
    public interface PoolReplicas {
        /** The uuids of every replica spec in the pool, in any state and of any volume or none. */
        List<String> replicasIn(String poolId);
    }

    public PoolOperations(SpecStore store, OperationGuard poolGuard, IoEngineConnections engines, NodeRegistry registry,
                          NodeStatePoller poller, EventHistory events, PoolReplicas poolReplicas) {
        this.store = store;
        this.guard = poolGuard;
        this.engines = engines;
        this.registry = registry;
        this.poller = poller;
        this.events = events;
        this.poolReplicas = poolReplicas;
    }

    public OperationGuard guard() {
        return guard;
    }

    public Versioned<PoolSpec> get(String id) {
        return store.get(PoolSpec.KIND, id).orElseThrow(() -> new CoreException.NotFound("pool " + id + ": not found"));
    }

    public List<Versioned<PoolSpec>> list() {
        return store.list(PoolSpec.KIND);
    }

    public PoolSpec create(String id, String nodeId, List<String> disks, Map<String, String> labels) {
        return create(id, nodeId, disks, labels, false);
    }

    /** As above; {@code eraseExisting} lets the node erase what the disk holds (refused otherwise, naming it). */
    public PoolSpec create(String id, String nodeId, List<String> disks, Map<String, String> labels, boolean eraseExisting) {
        if (id == null || !POOL_ID.matcher(id).matches()) {
            throw new CoreException.InvalidArgument("id", "must be 1-63 letters, digits, '.', '_' or '-'");
        }
        if (nodeId == null || nodeId.isBlank()) {
            throw new CoreException.InvalidArgument("node_id", "must not be empty");
        }
        if (disks.size() != 1) {
            throw new CoreException.InvalidArgument("disks", "exactly one disk URI is supported, got " + disks.size());
        }
        PoolSpec wanted = new PoolSpec(id, nodeId, disks, labels, OperationStatus.CREATING, eraseExisting);
        try (var held = guard.acquire(id, WAIT)) {
            Optional<Versioned<PoolSpec>> existing = store.get(PoolSpec.KIND, id);
            Versioned<PoolSpec> creating;
            if (existing.isPresent()) {
                PoolSpec have = existing.get().spec();
                if (!have.sameIntent(wanted)) {
                    throw new CoreException.AlreadyExists("pool " + id + ": exists with a different spec (node " + have.nodeId() + ", disks " + have.disks() + ")");
                }
                if (have.operation() == OperationStatus.CREATED) {
                    return have;
                }
                if (have.operation() != OperationStatus.CREATING) {
                    throw new CoreException.Conflict("pool " + id + ": is being deleted");
                }
                creating = existing.get();
            } else {
                if (store.get(NodeSpec.KIND, nodeId).isEmpty()) {
                    throw new CoreException.NotFound("node " + nodeId + ": not found");
                }
                if (registry.get(nodeId).map(n -> !n.status().isOnline()).orElse(true)) {
                    throw new CoreException.Unavailable("node " + nodeId + ": not Online");
                }
                creating = store.create(PoolSpec.KIND, wanted);
            }
            try {
                return realize(creating).spec();
            } catch (CoreException.AlreadyExists | CoreException.InvalidArgument | CoreException.FailedPrecondition e) {
                // The node refused for good: nothing was created, so the intent goes too.
                store.delete(PoolSpec.KIND, creating);
                events.record("pool", id, "PoolCreateFailed", Severity.WARNING, e.getMessage());
                throw e;
            }
        }
    }

    /**
     * Sets labels (an empty value removes the key); placement matches them against volumes' pool
     * topology from the next placement on. Replicas already placed stay where they are.
     */
    public PoolSpec setLabels(String id, Map<String, String> changes) {
        for (Map.Entry<String, String> e : changes.entrySet()) {
            if (e.getKey().isBlank() || e.getKey().length() > 317) {
                throw new CoreException.InvalidArgument("labels", "keys must be 1-317 characters, got '" + e.getKey() + "'");
            }
            if (e.getValue().length() > 63) {
                throw new CoreException.InvalidArgument("labels." + e.getKey(), "values must be at most 63 characters");
            }
        }
        try (var held = guard.acquire(id, WAIT)) {
            Versioned<PoolSpec> current = get(id);
            PoolSpec s = current.spec();
            if (s.operation() == OperationStatus.DELETING) {
                throw new CoreException.Conflict("pool " + id + ": is being deleted");
            }
            Map<String, String> labels = new java.util.HashMap<>(s.labels());
            changes.forEach((k, v) -> {
                if (v.isEmpty()) {
                    labels.remove(k);
                } else {
                    labels.put(k, v);
                }
            });
            PoolSpec next = new PoolSpec(s.id(), s.nodeId(), s.disks(), labels, s.operation(), s.eraseExisting());
            if (next.equals(s)) {
                return s;
            }
            store.update(PoolSpec.KIND, current, next);
            events.record("pool", id, "PoolLabelsChanged", Severity.INFO, "labels now " + new java.util.TreeMap<>(labels));
            return next;
        }
    }

    /** Creates (or imports, when the disk already holds it) the pool on its node and marks the spec Created. */
    public Versioned<PoolSpec> realize(Versioned<PoolSpec> creating) {
        PoolSpec s = creating.spec();
        var engine = engines.node(s.nodeId());
        Pool pool;
        Optional<Pool> present = engine.listPools().stream().filter(p -> p.getName().equals(s.id())).findFirst();
        if (present.isPresent()) {
            pool = present.get();
        } else {
            pool = engine.createPool(s.id(), s.disks(), s.eraseExisting());
        }
        poller.observed(s.nodeId(), pool);
        Versioned<PoolSpec> created = store.update(PoolSpec.KIND, creating, s.with(OperationStatus.CREATED));
        events.record("pool", s.id(), "PoolCreated", Severity.INFO, "pool created on node " + s.nodeId() + " from " + s.disks());
        log.info("pool created poolId={} nodeId={} capacity={}", s.id(), s.nodeId(), pool.getCapacity());
        return created;
    }

    public void destroy(String id) {
        try (var held = guard.acquire(id, WAIT)) {
            Optional<Versioned<PoolSpec>> existing = store.get(PoolSpec.KIND, id);
            if (existing.isEmpty()) {
                return; // destroying what is gone succeeds
            }
            List<String> users = poolReplicas.replicasIn(id);
            if (!users.isEmpty()) {
                throw new CoreException.InUse("pool " + id + ": holds replicas " + users);
            }
            Versioned<PoolSpec> current = existing.get();
            Versioned<PoolSpec> deleting = current.spec().operation() == OperationStatus.DELETING
                    ? current : store.update(PoolSpec.KIND, current, current.spec().with(OperationStatus.DELETING));
            unrealize(deleting);
        }
    }

    /** Destroys the pool on its node (absent is fine) and removes the spec. */
    public void unrealize(Versioned<PoolSpec> deleting) {
        PoolSpec s = deleting.spec();
        try {
            engines.node(s.nodeId()).destroyPool(s.id());
        } catch (CoreException.NotFound gone) {
            log.info("pool already absent poolId={} nodeId={}", s.id(), s.nodeId());
        }
        registry.update(s.nodeId(), n -> n.withInventory(
                n.pools().stream().filter(p -> !p.id().equals(s.id())).toList(), n.replicas(), n.observedAt()));
        store.delete(PoolSpec.KIND, deleting);
        events.record("pool", s.id(), "PoolDestroyed", Severity.INFO, "pool destroyed on node " + s.nodeId());
    }
}
