package io.javastor.core.volume;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.PoolState;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Volume create, destroy, resize and replica count. Each runs under the volume's guard, writes the
 * spec before touching nodes and leaves it Created only when every step is done; a failure undoes
 * what this call did, a crash leaves a Creating/Deleting spec for {@code VolumeSpecRecovery}.
 * The target is {@link VolumeTargets}', the replica set {@link VolumeReplicas}', what the API shows {@link VolumeViews}'.
 */
public final class VolumeOperations {

    private static final Logger log = LoggerFactory.getLogger(VolumeOperations.class);
    public static final int MAX_REPLICAS = 16;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final SpecStore store;
    private final OperationGuard guard;
    private final ReplicaOperations replicas;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final NexusOperations nexuses;
    private final VolumeReplicas replicaSet;
    private final VolumeViews views;

    public VolumeOperations(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas, NodeRegistry registry,
                            EventHistory events, NexusOperations nexuses, VolumeReplicas replicaSet, VolumeViews views) {
        this.nexuses = nexuses;
        this.store = store;
        this.guard = volumeGuard;
        this.replicas = replicas;
        this.registry = registry;
        this.events = events;
        this.replicaSet = replicaSet;
        this.views = views;
    }

    public OperationGuard guard() {
        return guard;
    }

    public VolumeView create(VolumeSpec request) {
        validate(request);
        VolumeSpec wanted = request.with(OperationStatus.CREATING);
        try (var held = guard.acquire(wanted.uuid(), WAIT)) {
            Optional<Versioned<VolumeSpec>> existing = store.get(VolumeSpec.KIND, wanted.uuid());
            Versioned<VolumeSpec> creating;
            List<Versioned<ReplicaSpec>> replicasSoFar;
            if (existing.isPresent()) {
                VolumeSpec have = existing.get().spec();
                if (!have.sameIntent(wanted)) {
                    throw new CoreException.AlreadyExists("volume " + wanted.uuid() + ": exists with a different spec (size "
                            + have.size() + ", replicas " + have.replicaCount() + ", thin " + have.thin() + ")");
                }
                if (have.operation() == OperationStatus.CREATED) {
                    return views.view(have);
                }
                if (have.operation() != OperationStatus.CREATING) {
                    throw new CoreException.Conflict("volume " + wanted.uuid() + ": is being deleted");
                }
                creating = existing.get(); // a create that failed or crashed half-way: finish it
                replicasSoFar = replicas.ofVolume(wanted.uuid());
            } else {
                // A volume and its target share one uuid: one already naming a nexus outside volumes is taken.
                Optional<Versioned<NexusSpec>> nexus = store.get(NexusSpec.KIND, wanted.uuid());
                if (nexus.isPresent() && !nexus.get().spec().ofVolume()) {
                    throw new CoreException.InUse("volume " + wanted.uuid() + ": the uuid names a nexus outside volumes on node "
                            + nexus.get().spec().nodeId() + "; destroy that nexus or choose another uuid",
                            java.util.Map.of("nexus", wanted.uuid()));
                }
                creating = store.create(VolumeSpec.KIND, wanted);
                // Fresh spec: any replica specs of this uuid are leftovers being deleted, which placement ignores anyway.
                replicasSoFar = List.of();
            }
            try {
                List<Versioned<ReplicaSpec>> live = replicaSet.addReplicas(creating.spec(), wanted.replicaCount(), replicasSoFar);
                Versioned<VolumeSpec> created = store.update(VolumeSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED));
                events.record("volume", wanted.uuid(), "VolumeCreated", Severity.INFO, "volume created: " + wanted.size()
                        + " bytes, " + wanted.replicaCount() + " replica(s), thin " + wanted.thin());
                return views.view(created.spec(), live);
            } catch (CoreException e) {
                try {
                    rollBack(wanted.uuid(), e);
                } catch (CoreException rollBackFailure) {
                    // The caller must see why the create failed; the spec stays Creating and VolumeSpecRecovery finishes the undo.
                    e.addSuppressed(rollBackFailure);
                    log.warn("rollback incomplete volumeId={}, left to the reconciler: {}", wanted.uuid(), rollBackFailure.getMessage());
                }
                throw e;
            }
        }
    }

    /** Destroying a volume that does not exist succeeds. Replicas on unreachable nodes are left Deleting for the reconciler. */
    public void destroy(String uuid) {
        VolumeSpec.requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Optional<Versioned<VolumeSpec>> existing = store.get(VolumeSpec.KIND, uuid);
            if (existing.isEmpty()) {
                return;
            }
            Versioned<VolumeSpec> current = existing.get();
            Versioned<VolumeSpec> deleting = current.spec().operation() == OperationStatus.DELETING
                    ? current : store.update(VolumeSpec.KIND, current, current.spec().with(OperationStatus.DELETING));
            finishDestroy(deleting);
        }
    }

    /** The rest of a destroy, also run by the reconciler for a spec left Deleting. Caller holds the guard. */
    public void finishDestroy(Versioned<VolumeSpec> deleting) {
        String uuid = deleting.spec().uuid();
        // The target goes first: a nexus must never outlive the replicas under it. An unreachable one stays
        // Deleting (NexusSpecRecovery destroys it when its node returns).
        nexuses.of(uuid).ifPresent(nexuses::remove);
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(uuid)) {
            replicaSet.destroyOrDefer(r);
        }
        nexuses.info().forget(uuid);
        store.delete(VolumeSpec.KIND, deleting);
        events.record("volume", uuid, "VolumeDestroyed", Severity.INFO, "volume destroyed");
    }

    /** Undoes a create that did not finish: replicas first, then the spec. Caller holds the guard. */
    public void rollBack(String uuid, Exception cause) {
        log.warn("rolling back volume create volumeId={}: {}", uuid, cause == null ? "left Creating" : cause.getMessage());
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(uuid)) {
            replicaSet.destroyOrDefer(r);
        }
        store.get(VolumeSpec.KIND, uuid).ifPresent(v -> store.delete(VolumeSpec.KIND, v));
        events.record("volume", uuid, "VolumeCreateRolledBack", Severity.WARNING,
                "create undone: " + (cause == null ? "left Creating by a previous agent" : cause.getMessage()));
    }

    /**
     * Grows a volume, published or not. Order (the Mayastor way): every replica first, then the nexus, then the volume
     * spec. Each step is idempotent (a replica or nexus already at the size is left alone), so a call cut short
     * half way (a node lost, a rebuild running, an agent crash) leaves bigger replicas under an unchanged volume,
     * which is a valid state, and the next call with the same size completes it. The volume's size only changes
     * when everything below it has grown, so what the volume reports is always usable.
     */
    public VolumeView resize(String uuid, long size) {
        VolumeSpec.requireUuid(uuid);
        if (size <= 0) {
            throw new CoreException.InvalidArgument("size", "must be positive");
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> current = VolumeSpec.readCreated(store, uuid);
            VolumeSpec spec = current.spec();
            if (size < spec.size()) {
                throw new CoreException.InvalidArgument("size", "volumes only grow: " + size + " < current " + spec.size());
            }
            if (size == spec.size()) {
                return views.view(spec); // the spec grows last, so everything below it has this size already
            }
            List<Versioned<ReplicaSpec>> mine = replicas.ofVolume(uuid);
            Optional<Versioned<NexusSpec>> target = nexuses.of(uuid);
            // Check everything first so a resize that cannot finish does not start.
            if (target.isPresent()) {
                NexusSpec n = target.get().spec();
                if (n.operation() != OperationStatus.CREATED) {
                    throw new CoreException.Conflict("volume " + uuid + ": its target is " + n.operation() + "; retry when it is Created");
                }
                if (registry.get(n.nodeId()).filter(x -> x.status().isOnline()).isEmpty()) {
                    throw new CoreException.Unavailable("volume " + uuid + ": its target is on node " + n.nodeId() + " which is not Online");
                }
            }
            for (Versioned<ReplicaSpec> r : mine) {
                if (r.spec().size() >= size) {
                    continue;
                }
                NodeState node = registry.get(r.spec().nodeId()).filter(n -> n.status().isOnline()).orElseThrow(() ->
                        new CoreException.Unavailable("volume " + uuid + ": replica " + r.spec().uuid() + " is on node "
                                + r.spec().nodeId() + " which is not Online"));
                if (!spec.thin()) {
                    long free = node.pools().stream().filter(p -> p.id().equals(r.spec().poolId())).mapToLong(PoolState::free).findFirst().orElse(0);
                    if (free < size - r.spec().size()) {
                        throw new CoreException.ResourceExhausted("volume " + uuid + ": pool " + r.spec().poolId() + " on node "
                                + r.spec().nodeId() + " has " + free + " bytes free, growing needs " + (size - r.spec().size()));
                    }
                }
            }
            for (Versioned<ReplicaSpec> r : mine) {
                if (r.spec().size() < size) {
                    replicas.resize(r, size);
                }
            }
            if (target.isPresent()) {
                // The nexus checks every child it writes to is big enough, and tells the connected hosts.
                nexuses.resize(target.get(), size);
            }
            Versioned<VolumeSpec> resized = store.update(VolumeSpec.KIND, current, spec.withSize(size));
            events.record("volume", uuid, "VolumeResized", Severity.INFO, "grown from " + spec.size() + " to " + size + " bytes"
                    + (target.isPresent() ? " while published on node " + target.get().spec().nodeId() : ""));
            log.info("volume resized volumeId={} from={} to={} published={}", uuid, spec.size(), size, target.isPresent());
            return views.view(resized.spec());
        }
    }

    /**
     * Up: new replicas are placed and created (they are filled by a rebuild once the volume has a
     * nexus). Down: the least healthy replicas go first (not observed, out of sync, away from the target, on the busiest node).
     */
    public VolumeView setReplicaCount(String uuid, int count) {
        VolumeSpec.requireUuid(uuid);
        if (count < 1 || count > MAX_REPLICAS) {
            throw new CoreException.InvalidArgument("replica_count", "must be 1.." + MAX_REPLICAS);
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> current = VolumeSpec.readCreated(store, uuid);
            VolumeSpec spec = current.spec();
            if (count == spec.replicaCount()) {
                return views.view(spec);
            }
            if (count > spec.replicaCount()) {
                List<Versioned<ReplicaSpec>> existing = replicas.ofVolume(uuid);
                Set<String> before = new HashSet<>(existing.stream().map(r -> r.spec().uuid()).toList());
                try {
                    List<Versioned<ReplicaSpec>> live = replicaSet.addReplicas(spec, count, existing);
                    // Published: the new replicas join the nexus, which rebuilds them from the others.
                    Optional<Versioned<NexusSpec>> target = nexuses.of(uuid).filter(n -> n.spec().operation() == OperationStatus.CREATED);
                    if (target.isPresent()) {
                        Versioned<NexusSpec> t = target.get();
                        for (Versioned<ReplicaSpec> r : live) {
                            if (!before.contains(r.spec().uuid())) {
                                t = nexuses.addChild(t, r.spec());
                            }
                        }
                    }
                    current = store.update(VolumeSpec.KIND, current, spec.withReplicaCount(count));
                } catch (CoreException e) {
                    // Undo what this call added; whatever cannot be undone now is left to the replica reconcilers.
                    try {
                        for (Versioned<ReplicaSpec> r : replicas.ofVolume(uuid)) {
                            if (!before.contains(r.spec().uuid())) {
                                Optional<Versioned<NexusSpec>> target = nexuses.of(uuid);
                                if (target.isPresent()) {
                                    nexuses.removeChild(target.get(), r.spec().uuid());
                                }
                                replicaSet.destroyOrDefer(r);
                            }
                        }
                    } catch (CoreException undoFailure) {
                        e.addSuppressed(undoFailure);
                    }
                    throw e;
                }
            } else {
                // Spec first: if we crash after it, extra replicas are found and removed by the reconciler.
                current = store.update(VolumeSpec.KIND, current, spec.withReplicaCount(count));
                replicaSet.removeReplicas(uuid, count);
            }
            events.record("volume", uuid, "VolumeReplicaCountChanged", Severity.INFO,
                    "replica count " + spec.replicaCount() + " -> " + count);
            return views.view(current.spec());
        }
    }


    private static void validate(VolumeSpec s) {
        VolumeSpec.requireUuid(s.uuid());
        if (s.size() <= 0) {
            throw new CoreException.InvalidArgument("size", "must be positive");
        }
        if (s.replicaCount() < 1 || s.replicaCount() > MAX_REPLICAS) {
            throw new CoreException.InvalidArgument("replica_count", "must be 1.." + MAX_REPLICAS);
        }
    }

}
