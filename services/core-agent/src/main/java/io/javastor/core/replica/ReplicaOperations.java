package io.javastor.core.replica;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.pool.PoolOperations;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * The steps of a replica's life, each one idempotent so a reconciler can repeat it after a crash:
 * spec Creating, create on the node, spec Created; spec Deleting, destroy on the node, spec removed.
 * Callers hold the owning volume's guard.
 */
public final class ReplicaOperations implements PoolOperations.PoolReplicas {

    private static final Logger log = LoggerFactory.getLogger(ReplicaOperations.class);

    private final SpecStore store;
    private final IoEngineConnections engines;
    private final NodeStatePoller poller;
    private final EventHistory events;
    private final java.util.concurrent.ExecutorService nodeCalls;

    public ReplicaOperations(SpecStore store, IoEngineConnections engines, NodeStatePoller poller, EventHistory events,
                             java.util.concurrent.ExecutorService nodeCalls) {
        this.nodeCalls = nodeCalls;
        this.store = store;
        this.engines = engines;
        this.poller = poller;
        this.events = events;
    }

    public List<Versioned<ReplicaSpec>> ofVolume(String volumeId) {
        return store.listWhere(ReplicaSpec.VOLUME, volumeId);
    }

    public List<Versioned<ReplicaSpec>> all() {
        return store.list(ReplicaSpec.KIND);
    }

    @Override
    public List<String> replicasIn(String poolId) {
        return store.list(ReplicaSpec.KIND).stream().filter(r -> poolId.equals(r.spec().poolId())).map(r -> r.spec().uuid()).toList();
    }

    /** Records the intent (specs Creating) for several replicas in one etcd transaction; they exist nowhere yet. */
    public List<Versioned<ReplicaSpec>> intendAll(List<ReplicaSpec> specs) {
        return store.createAll(ReplicaSpec.KIND, specs.stream().map(s -> s.with(OperationStatus.CREATING)).toList());
    }

    /**
     * Realizes several replicas at once: they live on different nodes, so the node calls overlap.
     * Waits for every one; then throws the first failure, if any, so the caller rolls back from a
     * settled state.
     */
    public List<Versioned<ReplicaSpec>> realizeAll(List<Versioned<ReplicaSpec>> creating) {
        return onEachNode(creating, this::realize);
    }

    /**
     * Creates the replicas on their nodes at once, as {@link #realizeAll} does, but leaves their specs Creating: the
     * caller marks them Created in its own write (a new volume with its replicas, one etcd transaction).
     */
    public void makeAll(List<Versioned<ReplicaSpec>> creating) {
        onEachNode(creating, r -> {
            make(r.spec());
            return r;
        });
    }

    /** Runs {@code step} for each replica, the node calls overlapping; waits for all, then throws the first failure. */
    private <R> List<R> onEachNode(List<Versioned<ReplicaSpec>> replicas, java.util.function.Function<Versioned<ReplicaSpec>, R> step) {
        if (replicas.size() == 1) {
            return List.of(step.apply(replicas.get(0)));
        }
        List<java.util.concurrent.Future<R>> running = new java.util.ArrayList<>();
        for (Versioned<ReplicaSpec> c : replicas) {
            running.add(nodeCalls.submit(() -> step.apply(c)));
        }
        CoreException first = null;
        List<R> done = new java.util.ArrayList<>();
        for (var f : running) {
            try {
                done.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof CoreException ce ? ce
                            : new CoreException.Unavailable("replica create failed: " + e.getCause(), e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CoreException.Unavailable("interrupted while creating replicas", e);
            }
        }
        if (first != null) {
            throw first;
        }
        return done;
    }

    /**
     * Creates the replica on its node (an existing identical one is fine), empty or as a clone of a snapshot, and marks
     * the spec Created.
     */
    public Versioned<ReplicaSpec> realize(Versioned<ReplicaSpec> creating) {
        ReplicaSpec s = creating.spec();
        make(s);
        return store.update(ReplicaSpec.KIND, creating, s.with(OperationStatus.CREATED));
    }

    /** Creates the replica on its node (an existing identical one is fine); its spec is the caller's to mark. */
    private void make(ReplicaSpec s) {
        var node = engines.node(s.nodeId());
        var replica = s.cloneOf().isEmpty() ? node.createReplica(s.uuid(), s.poolId(), s.size(), s.thin())
                : node.createSnapshotClone(s.cloneOf(), s.uuid());
        noteChange(s.nodeId(), replica, null);
        log.info("replica created uuid={} volumeId={} nodeId={} poolId={} size={}", s.uuid(), s.volumeId(), s.nodeId(), s.poolId(), s.size());
    }

    /** Marks the spec Deleting, destroys the replica on its node (a missing one is fine), removes the spec. */
    public void destroy(Versioned<ReplicaSpec> current) {
        Versioned<ReplicaSpec> deleting = current.spec().operation() == OperationStatus.DELETING
                ? current
                : store.update(ReplicaSpec.KIND, current, current.spec().with(OperationStatus.DELETING));
        ReplicaSpec s = deleting.spec();
        try {
            engines.node(s.nodeId()).destroyReplica(s.uuid(), s.poolId());
        } catch (CoreException.NotFound gone) {
            // Already gone (or its pool is): that is the state we want.
            log.info("replica already absent uuid={} nodeId={}", s.uuid(), s.nodeId());
        }
        noteChange(s.nodeId(), null, s.uuid());
        store.delete(ReplicaSpec.KIND, deleting);
        log.info("replica destroyed uuid={} volumeId={} nodeId={}", s.uuid(), s.volumeId(), s.nodeId());
    }

    /** Marks the spec Deleting without touching the node: for a node that cannot be reached now; a reconciler finishes it. */
    public Versioned<ReplicaSpec> markDeleting(Versioned<ReplicaSpec> current) {
        if (current.spec().operation() == OperationStatus.DELETING) {
            return current;
        }
        return store.update(ReplicaSpec.KIND, current, current.spec().with(OperationStatus.DELETING));
    }

    public Versioned<ReplicaSpec> resize(Versioned<ReplicaSpec> current, long size) {
        ReplicaSpec s = current.spec();
        var replica = engines.node(s.nodeId()).resizeReplica(s.uuid(), size);
        noteChange(s.nodeId(), replica, null);
        events.record("replica", s.uuid(), "ReplicaResized", Severity.INFO, "resized from " + s.size() + " to " + size + " bytes");
        return store.update(ReplicaSpec.KIND, current, s.withSize(size));
    }

    /** The inventory is only an optimisation for the next placement; the periodic poll catches up if this fails. */
    private void noteChange(String nodeId, io.javastor.api.ioengine.v1.Replica created, String destroyedUuid) {
        try {
            poller.replicaChanged(nodeId, created, destroyedUuid);
        } catch (CoreException e) {
            log.warn("state refresh after replica change failed nodeId={}: {}", nodeId, e.getMessage());
        }
    }
}
