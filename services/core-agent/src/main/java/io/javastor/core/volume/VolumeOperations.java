package io.javastor.core.volume;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.nvmf.HostNqn;
import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.nexus.StandaloneNexuses;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.PoolState;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A volume's operations: create, destroy, resize, replica count, max snapshots, publish, republish, unpublish and a
 * host's failed path. Each runs under the volume's guard, writes the spec before touching nodes and leaves it Created
 * only when every step is done; a failure undoes what this call did, a crash leaves a Creating/Deleting spec for
 * {@code VolumeSpecRecovery}. What a volume looks like is {@link VolumeViews}'s; the reconcilers' repairs live next
 * to them in {@code io.javastor.core.reconcile}.
 */
public final class VolumeOperations implements StandaloneNexuses.VolumeUuids {

    private static final Logger log = LoggerFactory.getLogger(VolumeOperations.class);
    public static final int MAX_REPLICAS = 16;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final SpecStore store;
    private final OperationGuard guard;
    private final ReplicaOperations replicas;
    private final VolumeReplicas volumeReplicas;
    private final VolumeViews views;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final NexusOperations nexuses;

    public VolumeOperations(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas, VolumeReplicas volumeReplicas,
                            VolumeViews views, NodeRegistry registry, EventHistory events, NexusOperations nexuses) {
        this.store = store;
        this.guard = volumeGuard;
        this.replicas = replicas;
        this.volumeReplicas = volumeReplicas;
        this.views = views;
        this.registry = registry;
        this.events = events;
        this.nexuses = nexuses;
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
            boolean fresh = existing.isEmpty();
            if (!fresh) {
                VolumeSpec have = existing.get().spec();
                if (!have.sameIntent(wanted)) {
                    throw new CoreException.AlreadyExists("volume " + wanted.uuid() + ": exists with a different spec (size "
                            + have.size() + ", replicas " + have.replicaCount() + ", thin " + have.thin() + ")");
                }
                if (have.operation() == OperationStatus.CREATED) {
                    return views.of(have);
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
                // Placed first, so the volume and its replicas' intents are written in one transaction: a crash leaves
                // both or neither, and the create costs one etcd round trip fewer. Any replica specs of this uuid are
                // leftovers being deleted, which placement ignores anyway.
                List<ReplicaSpec> intents = volumeReplicas.place(wanted, wanted.replicaCount(), java.util.Set.of());
                List<SpecStore.NewSpec<?>> together = new java.util.ArrayList<>();
                together.add(new SpecStore.NewSpec<>(VolumeSpec.KIND, wanted));
                intents.forEach(r -> together.add(new SpecStore.NewSpec<>(ReplicaSpec.KIND, r)));
                long revision = store.createTogether(together);
                creating = new Versioned<>(wanted, revision);
                replicasSoFar = intents.stream().map(r -> new Versioned<>(r, revision)).toList();
            }
            try {
                List<Versioned<ReplicaSpec>> live;
                Versioned<VolumeSpec> created;
                if (fresh) {
                    // Every replica made on its node, then the volume and its replicas marked Created in one transaction
                    // (one disk sync in etcd, not one per replica and another for the volume).
                    replicas.makeAll(replicasSoFar);
                    List<SpecStore.Change<?>> done = new java.util.ArrayList<>();
                    done.add(new SpecStore.Change<>(VolumeSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED)));
                    replicasSoFar.forEach(r -> done.add(new SpecStore.Change<>(ReplicaSpec.KIND, r, r.spec().with(OperationStatus.CREATED))));
                    long at = store.updateTogether(done);
                    created = new Versioned<>(creating.spec().with(OperationStatus.CREATED), at);
                    live = replicasSoFar.stream().map(r -> new Versioned<>(r.spec().with(OperationStatus.CREATED), at)).toList();
                } else {
                    live = volumeReplicas.addUpTo(creating.spec(), wanted.replicaCount(), replicasSoFar);
                    created = store.update(VolumeSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED));
                }
                events.record("volume", wanted.uuid(), "VolumeCreated", Severity.INFO, "volume created: " + wanted.size()
                        + " bytes, " + wanted.replicaCount() + " replica(s), thin " + wanted.thin());
                return views.of(created.spec(), live);
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
        requireUuid(uuid);
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
            volumeReplicas.destroyOrDefer(r);
        }
        nexuses.info().forget(uuid);
        store.delete(VolumeSpec.KIND, deleting);
        events.record("volume", uuid, "VolumeDestroyed", Severity.INFO, "volume destroyed");
    }

    /** Undoes a create that did not finish: replicas first, then the spec. Caller holds the guard. */
    public void rollBack(String uuid, Exception cause) {
        log.warn("rolling back volume create volumeId={}: {}", uuid, cause == null ? "left Creating" : cause.getMessage());
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(uuid)) {
            volumeReplicas.destroyOrDefer(r);
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
        requireUuid(uuid);
        if (size <= 0) {
            throw new CoreException.InvalidArgument("size", "must be positive");
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> current = readCreated(uuid);
            VolumeSpec spec = current.spec();
            if (size < spec.size()) {
                throw new CoreException.InvalidArgument("size", "volumes only grow: " + size + " < current " + spec.size());
            }
            if (size == spec.size()) {
                return views.of(spec); // the spec grows last, so everything below it has this size already
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
            return views.of(resized.spec());
        }
    }

    /**
     * Up: new replicas are placed and created (they are filled by a rebuild once the volume has a
     * nexus). Down: the least healthy replicas go first (not observed, out of sync, away from the target, on the busiest node).
     */
    public VolumeView setReplicaCount(String uuid, int count) {
        requireUuid(uuid);
        if (count < 1 || count > MAX_REPLICAS) {
            throw new CoreException.InvalidArgument("replica_count", "must be 1.." + MAX_REPLICAS);
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> current = readCreated(uuid);
            VolumeSpec spec = current.spec();
            if (count == spec.replicaCount()) {
                return views.of(spec);
            }
            if (count > spec.replicaCount()) {
                List<Versioned<ReplicaSpec>> existing = replicas.ofVolume(uuid);
                Set<String> before = new HashSet<>(existing.stream().map(r -> r.spec().uuid()).toList());
                try {
                    List<Versioned<ReplicaSpec>> live = volumeReplicas.addUpTo(spec, count, existing);
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
                                volumeReplicas.destroyOrDefer(r);
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
                volumeReplicas.removeDownTo(uuid, count);
            }
            events.record("volume", uuid, "VolumeReplicaCountChanged", Severity.INFO,
                    "replica count " + spec.replicaCount() + " -> " + count);
            return views.of(current.spec());
        }
    }

    /**
     * Creates the volume's target (nexus) and shares it over NVMe-oF to {@code allowedHosts}, which must be named: a
     * target open to every host would admit any initiator on the network, unauthenticated (each named host gets its
     * own DH-HMAC-CHAP pair). Publishing again succeeds with the same target; asking for another node or other hosts
     * while published is refused (unpublish first).
     */
    public VolumeView publish(String uuid, String preferredNode, List<String> allowedHosts) {
        requireUuid(uuid);
        requireHostNqns(allowedHosts);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = readCreated(uuid);
            Optional<Versioned<NexusSpec>> existing = nexuses.of(uuid);
            if (existing.isPresent()) {
                NexusSpec n = existing.get().spec();
                if (n.operation() != OperationStatus.CREATED) {
                    throw new CoreException.Conflict("volume " + uuid + ": its target is " + n.operation());
                }
                if (preferredNode != null && !preferredNode.isEmpty() && !preferredNode.equals(n.nodeId())) {
                    throw new CoreException.FailedPrecondition("volume " + uuid + ": published on node " + n.nodeId()
                            + "; unpublish before publishing on " + preferredNode);
                }
                if (!n.allowedHosts().equals(allowedHosts)) {
                    throw new CoreException.FailedPrecondition("volume " + uuid + ": published for hosts " + n.allowedHosts()
                            + "; unpublish before publishing for " + allowedHosts);
                }
                return views.of(volume.spec());
            }
            nexuses.publish(uuid, volume.spec().size(), replicas.ofVolume(uuid), preferredNode, allowedHosts);
            return views.of(volume.spec());
        }
    }

    private static void requireHostNqns(List<String> hosts) {
        if (hosts.isEmpty()) {
            throw new CoreException.InvalidArgument("allowed_hosts", "name the hosts that may connect (the CSI node plugin's"
                    + " host NQN; REST: frontend_node): a volume is never published to every host");
        }
        HostNqn.firstProblem(hosts).ifPresent(why -> {
            throw new CoreException.InvalidArgument("allowed_hosts", why);
        });
    }

    /**
     * Moves the published volume's target to {@code toNode} (empty: any other eligible node), for {@code reason}
     * (see NexusOperations.move). Already there: nothing changes.
     */
    public VolumeView republish(String uuid, String toNode, String reason) {
        requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = readCreated(uuid);
            Versioned<NexusSpec> target = nexuses.of(uuid)
                    .orElseThrow(() -> new CoreException.FailedPrecondition("volume " + uuid + ": not published; publish it first"));
            if (target.spec().operation() != OperationStatus.CREATED) {
                throw new CoreException.Conflict("volume " + uuid + ": its target is " + target.spec().operation());
            }
            if (toNode != null && toNode.equals(target.spec().nodeId())) {
                return views.of(volume.spec());
            }
            nexuses.move(target, volume.spec().size(), replicas.ofVolume(uuid), toNode, reason);
            return views.of(volume.spec());
        }
    }

    /** What a host's report of a failed path did: the address to connect to now, and whether this report moved the target. */
    public record PathReport(String deviceUri, boolean moved) {}

    /**
     * The DH-HMAC-CHAP secrets with which {@code hostNqn} connects to the volume's target (for its CSI node plugin), or
     * to a nexus made outside volumes;
     * PERMISSION_DENIED unless the target admits that host.
     */
    public io.javastor.api.ioengine.v1.DhchapSecrets hostSecrets(String uuid, String hostNqn) {
        requireUuid(uuid);
        HostNqn.whyNot(hostNqn).ifPresent(why -> {
            throw new CoreException.InvalidArgument("host_nqn", why + " (the host's NQN, nqn.yyyy-mm.domain:name)");
        });
        if (store.get(VolumeSpec.KIND, uuid).isPresent()) {
            readCreated(uuid);
        }
        return nexuses.hostSecretsOf(uuid, hostNqn);
    }

    /** Whether a volume of this uuid exists, in any state: a nexus made outside volumes must not take its uuid. */
    @Override
    public boolean isVolume(String uuid) {
        return store.get(VolumeSpec.KIND, uuid).isPresent();
    }

    /** Whether {@code uuid} names a volume or a nexus (made outside volumes), whose host secrets {@link #hostSecrets} answers. */
    public boolean isTargetOrNexus(String uuid) {
        requireUuid(uuid);
        return store.get(VolumeSpec.KIND, uuid).isPresent() || store.get(NexusSpec.KIND, uuid).isPresent();
    }

    /**
     * A host lost its path to the volume's target (its path agent says so). If {@code failedUri} is still the volume's
     * target, the target moves to another node ({@link NexusOperations#move}: the fence makes that safe whether the
     * old one is dead, frozen or cut off); if the target moved already, nothing changes. Either way the answer is the
     * address to connect to. A repeated report of the same old address is harmless.
     */
    public PathReport reportFailedPath(String uuid, String failedUri, String hostNode) {
        requireUuid(uuid);
        if (failedUri == null || failedUri.isBlank()) {
            throw new CoreException.InvalidArgument("failed_uri", "is required (nvmf://host:port/nqn of the lost path)");
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = readCreated(uuid);
            Versioned<NexusSpec> target = nexuses.of(uuid)
                    .orElseThrow(() -> new CoreException.FailedPrecondition("volume " + uuid + ": not published"));
            if (target.spec().operation() != OperationStatus.CREATED) {
                throw new CoreException.Conflict("volume " + uuid + ": its target is " + target.spec().operation());
            }
            if (!sameTarget(target.spec().uri(), failedUri)) {
                return new PathReport(target.spec().uri(), false);
            }
            String reason = "host " + (hostNode == null || hostNode.isBlank() ? "(unnamed)" : hostNode) + " lost its path " + failedUri;
            NexusSpec moved = nexuses.move(target, volume.spec().size(), replicas.ofVolume(uuid), "", reason);
            return new PathReport(moved.uri(), true);
        }
    }

    /** The same target: same address and port and the same NQN (the host may spell the URI's scheme either way). */
    private static boolean sameTarget(String current, String reported) {
        try {
            java.net.URI a = java.net.URI.create(current.strip());
            java.net.URI b = java.net.URI.create(reported.strip());
            return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort()
                    && java.util.Objects.equals(a.getPath(), b.getPath());
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("failed_uri", "not a URI: " + reported);
        }
    }

    /** Destroys the volume's targets that are not its current one (Mayastor's shutdown_targets). Returns how many. */
    public int shutdownStaleTargets(String uuid) {
        requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            readCreated(uuid);
            return nexuses.shutdownStaleTargets(uuid, "shutdown of old targets requested");
        }
    }

    /** Removes the target; unpublishing what is not published succeeds. */
    public VolumeView unpublish(String uuid) {
        requireUuid(uuid);
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> volume = store.get(VolumeSpec.KIND, uuid)
                    .orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found"));
            nexuses.of(uuid).ifPresent(nexuses::remove);
            return views.of(volume.spec());
        }
    }


    /** Sets how many snapshots the volume may have (0: no limit); fewer than it has now only stops new ones. */
    public VolumeView setMaxSnapshots(String uuid, int max) {
        requireUuid(uuid);
        if (max < 0) {
            throw new CoreException.InvalidArgument("max_snapshots", "must not be negative");
        }
        try (var held = guard.acquire(uuid, WAIT)) {
            Versioned<VolumeSpec> current = readCreated(uuid);
            if (current.spec().maxSnapshots() == max) {
                return views.of(current.spec());
            }
            Versioned<VolumeSpec> updated = store.update(VolumeSpec.KIND, current, current.spec().withMaxSnapshots(max));
            events.record("volume", uuid, "VolumeMaxSnapshotsSet", Severity.INFO, "max_snapshots " + current.spec().maxSnapshots() + " -> " + max);
            return views.of(updated.spec());
        }
    }

    private Versioned<VolumeSpec> readCreated(String uuid) {
        Versioned<VolumeSpec> v = store.get(VolumeSpec.KIND, uuid).orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found"));
        if (v.spec().operation() != OperationStatus.CREATED) {
            throw new CoreException.Conflict("volume " + uuid + ": is " + v.spec().operation());
        }
        return v;
    }

    private static void validate(VolumeSpec s) {
        requireUuid(s.uuid());
        if (s.size() <= 0) {
            throw new CoreException.InvalidArgument("size", "must be positive");
        }
        if (s.replicaCount() < 1 || s.replicaCount() > MAX_REPLICAS) {
            throw new CoreException.InvalidArgument("replica_count", "must be 1.." + MAX_REPLICAS);
        }
    }

    static void requireUuid(String uuid) {
        try {
            if (uuid == null || !UUID.fromString(uuid).toString().equals(uuid.toLowerCase())) {
                throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
        }
    }
}
