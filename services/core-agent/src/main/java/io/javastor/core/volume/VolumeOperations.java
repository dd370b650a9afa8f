package io.javastor.core.volume;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.api.nvmf.HostNqn;
import io.javastor.core.CoreException;
import io.javastor.core.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusInfo;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.PoolState;
import io.javastor.core.node.ReplicaState;
import io.javastor.core.placement.Candidate;
import io.javastor.core.placement.PlacementRequest;
import io.javastor.core.placement.ReplicaPlacer;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Volume create, destroy, resize and replica count. Each runs under the volume's guard, writes the
 * spec before touching nodes and leaves it Created only when every step is done; a failure undoes
 * what this call did, a crash leaves a Creating/Deleting spec for {@code VolumeSpecRecovery}.
 * Publish/unpublish (the nexus) come with the io-engine's nexus API.
 */
public final class VolumeOperations {

    private static final Logger log = LoggerFactory.getLogger(VolumeOperations.class);
    public static final int MAX_REPLICAS = 16;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final SpecStore store;
    private final OperationGuard guard;
    private final ReplicaOperations replicas;
    private final ReplicaPlacer placer;
    private final PlacementCandidates candidates;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final NexusOperations nexuses;

    public VolumeOperations(SpecStore store, OperationGuard volumeGuard, ReplicaOperations replicas, ReplicaPlacer placer,
                            NodeRegistry registry, EventHistory events, NexusOperations nexuses) {
        this.nexuses = nexuses;
        this.store = store;
        this.guard = volumeGuard;
        this.replicas = replicas;
        this.placer = placer;
        this.candidates = new PlacementCandidates(store, registry);
        this.registry = registry;
        this.events = events;
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
                    return view(have);
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
                List<Versioned<ReplicaSpec>> live = addReplicas(creating.spec(), wanted.replicaCount(), replicasSoFar);
                Versioned<VolumeSpec> created = store.update(VolumeSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED));
                events.record("volume", wanted.uuid(), "VolumeCreated", Severity.INFO, "volume created: " + wanted.size()
                        + " bytes, " + wanted.replicaCount() + " replica(s), thin " + wanted.thin());
                return view(created.spec(), live);
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
            destroyOrDefer(r);
        }
        nexuses.info().forget(uuid);
        store.delete(VolumeSpec.KIND, deleting);
        events.record("volume", uuid, "VolumeDestroyed", Severity.INFO, "volume destroyed");
    }

    /** Undoes a create that did not finish: replicas first, then the spec. Caller holds the guard. */
    public void rollBack(String uuid, Exception cause) {
        log.warn("rolling back volume create volumeId={}: {}", uuid, cause == null ? "left Creating" : cause.getMessage());
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(uuid)) {
            destroyOrDefer(r);
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
                return view(spec); // the spec grows last, so everything below it has this size already
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
            return view(resized.spec());
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
                return view(spec);
            }
            if (count > spec.replicaCount()) {
                List<Versioned<ReplicaSpec>> existing = replicas.ofVolume(uuid);
                Set<String> before = new HashSet<>(existing.stream().map(r -> r.spec().uuid()).toList());
                try {
                    List<Versioned<ReplicaSpec>> live = addReplicas(spec, count, existing);
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
                                destroyOrDefer(r);
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
                removeReplicas(uuid, count);
            }
            events.record("volume", uuid, "VolumeReplicaCountChanged", Severity.INFO,
                    "replica count " + spec.replicaCount() + " -> " + count);
            return view(current.spec());
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
                return view(volume.spec());
            }
            nexuses.publish(uuid, volume.spec().size(), replicas.ofVolume(uuid), preferredNode, allowedHosts);
            return view(volume.spec());
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
                return view(volume.spec());
            }
            nexuses.move(target, volume.spec().size(), replicas.ofVolume(uuid), toNode, reason);
            return view(volume.spec());
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

    /**
     * For the reconcilers: moves the volume's target off {@code fromNode} if it is still there, without waiting for the
     * volume's guard. Returns false when the guard is held (come back later) or the move failed.
     */
    public boolean moveTargetOff(String uuid, String fromNode, String reason) {
        OperationGuard.Held held = guard.tryAcquire(uuid);
        if (held == null) {
            return false;
        }
        try (held) {
            var volume = store.get(VolumeSpec.KIND, uuid);
            var target = nexuses.of(uuid);
            if (volume.isEmpty() || volume.get().spec().operation() != OperationStatus.CREATED || target.isEmpty()
                    || target.get().spec().operation() != OperationStatus.CREATED || !target.get().spec().nodeId().equals(fromNode)) {
                return true;
            }
            nexuses.move(target.get(), volume.get().spec().size(), replicas.ofVolume(uuid), "", reason);
            return true;
        } catch (CoreException e) {
            log.warn("target not moved volumeId={} fromNode={} reason={}: {}", uuid, fromNode, reason, e.getMessage());
            return false;
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
            return view(volume.spec());
        }
    }

    public VolumeView get(String uuid) {
        requireUuid(uuid);
        return view(store.get(VolumeSpec.KIND, uuid).orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found")).spec());
    }

    public List<VolumeView> list() {
        return list(0, 0).volumes();
    }

    /** One page of volumes in uuid order, and the offset of the next page (absent on the last). */
    public record Page(List<VolumeView> volumes, OptionalLong nextToken) {}

    /**
     * Volumes in uuid order (etcd answers a prefix range sorted by key), {@code maxEntries} from
     * {@code start} (0: all). One range read per kind, and one snapshot of what the nodes report,
     * whatever the number of volumes: only the page's views are built.
     */
    public Page list(int maxEntries, long start) {
        if (maxEntries < 0) {
            throw new CoreException.InvalidArgument("max_entries", "must not be negative");
        }
        if (start < 0) {
            throw new CoreException.InvalidArgument("starting_token", "must not be negative");
        }
        List<Versioned<VolumeSpec>> all = store.list(VolumeSpec.KIND);
        int from = (int) Math.min(start, all.size());
        int to = maxEntries == 0 ? all.size() : (int) Math.min((long) from + maxEntries, all.size());
        List<Versioned<VolumeSpec>> page = all.subList(from, to);
        if (page.isEmpty()) {
            return new Page(List.of(), OptionalLong.empty());
        }
        Map<String, List<Versioned<ReplicaSpec>>> byVolume = new HashMap<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            byVolume.computeIfAbsent(r.spec().volumeId(), k -> new ArrayList<>()).add(r);
        }
        Map<String, NexusSpec> targets = new HashMap<>();
        store.list(NexusSpec.KIND).stream().filter(n -> n.spec().ofVolume()).forEach(n -> targets.put(n.spec().uuid(), n.spec()));
        Map<String, NexusInfo> infos = new HashMap<>();
        store.list(NexusInfo.KIND).forEach(i -> infos.put(i.spec().uuid(), i.spec()));
        Observed observed = Observed.now(registry);
        List<VolumeView> views = new ArrayList<>(page.size());
        for (Versioned<VolumeSpec> v : page) {
            views.add(view(v.spec(), byVolume.getOrDefault(v.spec().uuid(), List.of()), Optional.ofNullable(targets.get(v.spec().uuid())),
                    observed, infos.getOrDefault(v.spec().uuid(), NexusInfo.fresh(v.spec().uuid()))));
        }
        return new Page(views, to < all.size() ? OptionalLong.of(to) : OptionalLong.empty());
    }

    /** The rebuilds the volume's targets ran, as recorded in the agent's database (see NexusOperations.rebuildHistory). */
    public NexusOperations.RebuildHistory rebuildHistory(String uuid) {
        requireUuid(uuid);
        store.get(VolumeSpec.KIND, uuid).orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found"));
        return nexuses.rebuildHistory(uuid);
    }

    /**
     * What the nodes report, read once for many views: node status by id and reported replicas by
     * uuid (only from Online nodes, as {@link #observed} reads them).
     */
    private interface Observations {
        Optional<ReplicaState> of(ReplicaSpec r);

        boolean heard(String nodeId);
    }

    /** For one volume: look its few replicas up in the registry directly. */
    private Observations live() {
        return new Observations() {
            @Override
            public Optional<ReplicaState> of(ReplicaSpec r) {
                return observed(r);
            }

            @Override
            public boolean heard(String nodeId) {
                return registry.get(nodeId).map(n -> !(n.status() instanceof io.javastor.core.node.NodeStatus.Unknown)).orElse(false);
            }
        };
    }

    private record Observed(Map<String, io.javastor.core.node.NodeStatus> nodeStatus, Map<String, ReplicaState> replicas)
            implements Observations {
        static Observed now(NodeRegistry registry) {
            Map<String, io.javastor.core.node.NodeStatus> status = new HashMap<>();
            Map<String, ReplicaState> reported = new HashMap<>();
            for (NodeState n : registry.all()) {
                status.put(n.nodeId(), n.status());
                if (n.status().isOnline()) {
                    for (ReplicaState r : n.replicas()) {
                        if (r.nodeId().equals(n.nodeId())) {
                            reported.put(r.uuid(), r);
                        }
                    }
                }
            }
            return new Observed(status, reported);
        }

        @Override
        public Optional<ReplicaState> of(ReplicaSpec r) {
            return Optional.ofNullable(replicas.get(r.uuid())).filter(x -> x.nodeId().equals(r.nodeId()));
        }

        @Override
        public boolean heard(String nodeId) {
            var s = nodeStatus.get(nodeId);
            return s != null && !(s instanceof io.javastor.core.node.NodeStatus.Unknown);
        }
    }

    /**
     * Brings the volume up to {@code target} live replicas: creates any left Creating, places the rest.
     * Returns the live replicas afterwards.
     */
    private List<Versioned<ReplicaSpec>> addReplicas(VolumeSpec spec, int target, List<Versioned<ReplicaSpec>> existing) {
        List<Versioned<ReplicaSpec>> live = new ArrayList<>();
        List<Versioned<ReplicaSpec>> unfinished = new ArrayList<>();
        Set<String> usedNodes = new HashSet<>();
        for (Versioned<ReplicaSpec> r : existing) {
            if (r.spec().operation() == OperationStatus.DELETING) {
                continue;
            }
            usedNodes.add(r.spec().nodeId());
            if (r.spec().operation() == OperationStatus.CREATING) {
                unfinished.add(r);
            } else {
                live.add(r);
            }
        }
        live.addAll(replicas.realizeAll(unfinished));
        int missing = target - live.size();
        if (missing <= 0) {
            return live;
        }
        List<Candidate> chosen = placer.place(new PlacementRequest(spec.uuid(), spec.size(), spec.thin(), missing,
                spec.topology().nodeLabels(), spec.topology().poolLabels(), usedNodes), candidates.forGroup(spec.affinityGroup()));
        List<ReplicaSpec> wanted = chosen.stream().map(c -> new ReplicaSpec(UUID.randomUUID().toString(), c.poolId(), c.nodeId(),
                spec.size(), spec.thin(), spec.uuid(), OperationStatus.CREATING)).toList();
        if (spec.operation() == OperationStatus.CREATED) {
            // The volume may hold data: a new replica is empty until a target rebuilds it, and must never be served before.
            nexuses.info().outOfSync(spec.uuid(), wanted.stream().map(ReplicaSpec::uuid).toList());
        }
        live.addAll(replicas.realizeAll(replicas.intendAll(wanted)));
        return live;
    }

    /**
     * Removes Created replicas beyond the volume's replica count (a scale-down cut short by a crash
     * after the spec changed). Caller holds the guard. Returns how many were removed.
     */
    public int trimExtraReplicas(VolumeSpec spec) {
        long created = replicas.ofVolume(spec.uuid()).stream().filter(r -> r.spec().operation() == OperationStatus.CREATED).count();
        if (created <= spec.replicaCount()) {
            return 0;
        }
        removeReplicas(spec.uuid(), spec.replicaCount());
        events.record("volume", spec.uuid(), "VolumeReplicasTrimmed", Severity.INFO,
                (created - spec.replicaCount()) + " replica(s) beyond the replica count " + spec.replicaCount() + " removed");
        return (int) (created - spec.replicaCount());
    }

    /**
     * A published volume whose replica sits on an Offline node gets it replaced: the lost child
     * leaves the nexus, its spec waits Deleting for the node, a new replica is placed on another
     * node and added to the nexus, which rebuilds it from the healthy children. Caller holds the
     * guard. Returns how many were replaced.
     */
    public int replaceLostReplicas(VolumeSpec spec) {
        Optional<Versioned<NexusSpec>> target = nexuses.of(spec.uuid()).filter(n -> n.spec().operation() == OperationStatus.CREATED);
        if (target.isEmpty() || !nodeOnline(target.get().spec().nodeId())) {
            return 0; // no target to rebuild from (a lost target is the HA work's to move)
        }
        Versioned<NexusSpec> t = target.get();
        int lost = 0;
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(spec.uuid())) {
            if (r.spec().operation() == OperationStatus.CREATED && nodeOffline(r.spec().nodeId())) {
                t = nexuses.removeChild(t, r.spec().uuid());
                replicas.markDeleting(r);
                // Never served again: what targets said about it must not keep the volume's record out of sync.
                nexuses.info().retired(spec.uuid(), r.spec().uuid());
                events.record("replica", r.spec().uuid(), "ReplicaLost", Severity.WARNING, "node " + r.spec().nodeId()
                        + " is Offline; replica of volume " + spec.uuid() + " retired and will be replaced");
                lost++;
            }
        }
        List<Versioned<ReplicaSpec>> existing = replicas.ofVolume(spec.uuid());
        long live = existing.stream().filter(r -> r.spec().operation() != OperationStatus.DELETING).count();
        if (lost == 0 && live >= spec.replicaCount()) {
            return 0;
        }
        // Also when nothing was lost just now: a replacement that found no room before is placed once there is.
        Set<String> before = new HashSet<>(existing.stream().map(r -> r.spec().uuid()).toList());
        for (Versioned<ReplicaSpec> r : addReplicas(spec, spec.replicaCount(), existing)) {
            if (!before.contains(r.spec().uuid())) {
                t = nexuses.addChild(t, r.spec());
                events.record("volume", spec.uuid(), "ReplicaReplaced", Severity.INFO, "new replica " + r.spec().uuid()
                        + " on node " + r.spec().nodeId() + " replaces a lost one");
                lost = Math.max(lost, 1);
            }
        }
        return lost;
    }

    /**
     * A replica its Online node no longer has though its pool is there (lost with its data, so re-creating it empty
     * under the same uuid would hide that): it leaves the target, is retired, and a new replica is placed and rebuilt
     * as for a lost one. Caller holds the guard. Returns how many replicas were placed.
     */
    public int replaceGoneReplica(VolumeSpec spec, String replicaUuid) {
        Optional<Versioned<NexusSpec>> target = nexuses.of(spec.uuid()).filter(n -> n.spec().operation() == OperationStatus.CREATED);
        if (target.isPresent()) {
            nexuses.removeChild(target.get(), replicaUuid);
        }
        store.get(ReplicaSpec.KIND, replicaUuid).ifPresent(this::destroyOrDefer);
        nexuses.info().retired(spec.uuid(), replicaUuid);
        return replaceLostReplicas(spec);
    }

    private boolean nodeOnline(String nodeId) {
        return registry.get(nodeId).map(n -> n.status().isOnline()).orElse(false);
    }

    private boolean nodeOffline(String nodeId) {
        return registry.get(nodeId).map(n -> n.status() instanceof io.javastor.core.node.NodeStatus.Offline).orElse(false);
    }

    private void removeReplicas(String uuid, int keep) {
        List<Versioned<ReplicaSpec>> live = new ArrayList<>(replicas.ofVolume(uuid).stream()
                .filter(r -> r.spec().operation() == OperationStatus.CREATED).toList());
        Map<String, Integer> perNode = new HashMap<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            perNode.merge(r.spec().nodeId(), 1, Integer::sum);
        }
        NexusInfo info = nexuses.info().of(uuid);
        String targetNode = nexuses.of(uuid).map(n -> n.spec().nodeId()).orElse("");
        // First to go: not seen on its node, then out of sync (it holds the least), then away from the target (the
        // target's local replica is its fastest child), then on the busiest node.
        live.sort(Comparator.<Versioned<ReplicaSpec>, Boolean>comparing(r -> observed(r.spec()).isPresent())
                .thenComparing(r -> info.inSync(r.spec().uuid()))
                .thenComparing(r -> r.spec().nodeId().equals(targetNode))
                .thenComparing(r -> -perNode.getOrDefault(r.spec().nodeId(), 0))
                .thenComparing(r -> r.spec().uuid()));
        for (int i = 0; i < live.size() - keep; i++) {
            // Out of the nexus first: a child must not vanish under a live target.
            Optional<Versioned<NexusSpec>> target = nexuses.of(uuid);
            if (target.isPresent()) {
                nexuses.removeChild(target.get(), live.get(i).spec().uuid());
            }
            destroyOrDefer(live.get(i));
        }
    }

    /** Destroys a replica now, or (node unreachable) leaves its spec Deleting for the reconciler. */
    private void destroyOrDefer(Versioned<ReplicaSpec> r) {
        boolean reachable = registry.get(r.spec().nodeId()).map(n -> n.status().isOnline()).orElse(false);
        if (!reachable) {
            replicas.markDeleting(r);
            log.warn("replica left Deleting: node not Online uuid={} nodeId={}", r.spec().uuid(), r.spec().nodeId());
            return;
        }
        try {
            replicas.destroy(r);
        } catch (CoreException.Unavailable e) {
            store.get(ReplicaSpec.KIND, r.spec().uuid()).ifPresent(replicas::markDeleting);
            log.warn("replica left Deleting: {} uuid={}", e.getMessage(), r.spec().uuid());
        }
    }

    private Optional<ReplicaState> observed(ReplicaSpec r) {
        return registry.get(r.nodeId()).filter(n -> n.status().isOnline())
                .flatMap(n -> n.replicas().stream().filter(x -> x.uuid().equals(r.uuid())).findFirst());
    }

    private VolumeView view(VolumeSpec spec) {
        return view(spec, replicas.ofVolume(spec.uuid()));
    }

    private VolumeView view(VolumeSpec spec, List<Versioned<ReplicaSpec>> mine) {
        return view(spec, mine, nexuses.of(spec.uuid()).map(Versioned::spec), nexuses.info().of(spec.uuid()));
    }

    private VolumeView view(VolumeSpec spec, List<Versioned<ReplicaSpec>> mine, Optional<NexusSpec> nexus) {
        return view(spec, mine, nexus, live(), nexuses.info().of(spec.uuid()));
    }

    private VolumeView view(VolumeSpec spec, List<Versioned<ReplicaSpec>> mine, Optional<NexusSpec> nexus, NexusInfo info) {
        return view(spec, mine, nexus, live(), info);
    }

    private VolumeView view(VolumeSpec spec, List<Versioned<ReplicaSpec>> mine, Optional<NexusSpec> nexus, Observations observed,
                            NexusInfo info) {
        List<VolumeView.ReplicaView> views = mine.stream().map(r -> {
            Optional<ReplicaState> o = observed.of(r.spec());
            return new VolumeView.ReplicaView(r.spec(), o.isPresent(), o.map(ReplicaState::uri).orElse(""));
        }).toList();
        // Healthy: there, and holding every acknowledged write (a replica being rebuilt is not yet).
        long healthy = views.stream().filter(v -> v.present() && v.spec().operation() == OperationStatus.CREATED && info.inSync(v.spec().uuid())).count();
        boolean anyHeard = mine.stream().anyMatch(r -> observed.heard(r.spec().nodeId()));
        VolumeStatus status;
        if (!anyHeard) {
            status = VolumeStatus.UNKNOWN;
        } else if (healthy >= spec.replicaCount()) {
            status = VolumeStatus.ONLINE;
        } else if (healthy > 0) {
            status = VolumeStatus.DEGRADED;
        } else {
            status = VolumeStatus.FAULTED;
        }
        return new VolumeView(spec, status, views, nexus.filter(n -> n.operation() == OperationStatus.CREATED)
                .map(n -> new VolumeView.Target(n.nodeId(), n.uri())));
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
                return view(current.spec());
            }
            Versioned<VolumeSpec> updated = store.update(VolumeSpec.KIND, current, current.spec().withMaxSnapshots(max));
            events.record("volume", uuid, "VolumeMaxSnapshotsSet", Severity.INFO, "max_snapshots " + current.spec().maxSnapshots() + " -> " + max);
            return view(updated.spec());
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

    private static void requireUuid(String uuid) {
        try {
            if (uuid == null || !UUID.fromString(uuid).toString().equals(uuid.toLowerCase())) {
                throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument("uuid", "must be a UUID, got '" + uuid + "'");
        }
    }
}
