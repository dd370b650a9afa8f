package io.javastor.core.snapshot;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.snapshot.VolumeSnapshotSpec.ReplicaSnapshotRef;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.Topology;
import io.javastor.core.volume.VolumeApi;
import io.javastor.core.volume.VolumeOperations;
import io.javastor.core.volume.VolumeViews;
import io.javastor.core.volume.VolumeSpec;
import io.javastor.core.volume.VolumeView;

/**
 * Volume snapshots and volumes restored from them. Each runs under the volume's guard (the one every volume operation
 * takes), writes its spec before touching nodes, and leaves it Created only when every replica snapshot exists; a
 * failure undoes what the call did.
 *
 * <p>Consistency: a published volume's target holds its writes back (in-flight ones complete, every child is flushed)
 * while each Online child's replica is snapshotted under one transaction id, then resumes; the pause is leased, and
 * one that ran out voids the attempt. An unpublished volume has no writer: its replicas are snapshotted directly.
 */
public final class SnapshotOperations implements VolumeApi.SnapshotCounts {

    private static final Logger log = LoggerFactory.getLogger(SnapshotOperations.class);
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** How long a target may hold writes for one snapshot before it lets them go by itself (a dead agent). */
    static final Duration PAUSE_LEASE = Duration.ofSeconds(10);

    private final SpecStore store;
    private final OperationGuard guard;
    private final IoEngineConnections engines;
    private final NexusOperations nexuses;
    private final ReplicaOperations replicas;
    private final VolumeOperations volumes;
    private final VolumeViews views;
    private final EventHistory events;
    /** Replica snapshots of one volume snapshot are taken at once: they are on different nodes, and writes wait meanwhile. */
    private final java.util.concurrent.ExecutorService nodeCalls;

    public SnapshotOperations(SpecStore store, OperationGuard volumeGuard, IoEngineConnections engines, NexusOperations nexuses,
                              ReplicaOperations replicas, VolumeOperations volumes, VolumeViews views, EventHistory events,
                              java.util.concurrent.ExecutorService nodeCalls) {
        this.nodeCalls = nodeCalls;
        this.store = store;
        this.guard = volumeGuard;
        this.engines = engines;
        this.nexuses = nexuses;
        this.replicas = replicas;
        this.volumes = volumes;
        this.views = views;
        this.events = events;
    }

    /** The guard of the snapshot's volume: every snapshot operation holds it. */
    public OperationGuard guard() {
        return guard;
    }

    // ---------------------------------------------------------------- create

    public VolumeSnapshotSpec create(String volumeId, String snapshotId) {
        requireUuid("volume_id", volumeId);
        requireUuid("snapshot_id", snapshotId);
        try (var held = guard.acquire(volumeId, WAIT)) {
            Optional<Versioned<VolumeSnapshotSpec>> existing = store.get(VolumeSnapshotSpec.KIND, snapshotId);
            if (existing.isPresent()) {
                VolumeSnapshotSpec have = existing.get().spec();
                if (!have.volumeId().equals(volumeId)) {
                    throw new CoreException.AlreadyExists("snapshot " + snapshotId + ": exists of volume " + have.volumeId());
                }
                switch (have.operation()) {
                    case CREATED -> {
                        return have;
                    }
                    case CREATING -> discardAttempt(existing.get()); // a create cut short: its replica snapshots may be of another moment
                    default -> throw new CoreException.Conflict("snapshot " + snapshotId + ": is being deleted");
                }
            }
            VolumeSpec volume = store.get(VolumeSpec.KIND, volumeId).map(Versioned::spec)
                    .filter(v -> v.operation() == OperationStatus.CREATED)
                    .orElseThrow(() -> new CoreException.NotFound("volume " + volumeId + ": not found"));
            List<VolumeSnapshotSpec> ofVolume = ofVolume(volumeId);
            if (volume.maxSnapshots() > 0 && ofVolume.size() >= volume.maxSnapshots()) {
                throw new CoreException.FailedPrecondition("volume " + volumeId + ": has " + ofVolume.size()
                        + " snapshots, its max_snapshots; delete one first");
            }
            long txn = ofVolume.stream().mapToLong(VolumeSnapshotSpec::txnId).max().orElse(0) + 1;
            Versioned<VolumeSnapshotSpec> creating = store.create(VolumeSnapshotSpec.KIND, new VolumeSnapshotSpec(snapshotId, volumeId,
                    txn, volume.size(), System.currentTimeMillis(), List.of(), List.of(), OperationStatus.CREATING));
            List<ReplicaSnapshotRef> taken = new ArrayList<>();
            try {
                List<String> skipped = take(creating.spec(), taken);
                Versioned<VolumeSnapshotSpec> created = store.update(VolumeSnapshotSpec.KIND, creating, creating.spec().taken(taken, skipped));
                events.record("snapshot", snapshotId, "SnapshotCreated", skipped.isEmpty() ? Severity.INFO : Severity.WARNING,
                        "snapshot of volume " + volumeId + " taken on " + taken.size() + " replica(s), txn " + txn
                                + (skipped.isEmpty() ? "" : "; not taken: " + String.join("; ", skipped)));
                log.info("snapshot created snapshotId={} volumeId={} replicas={} skipped={}", snapshotId, volumeId, taken.size(), skipped);
                return created.spec();
            } catch (CoreException e) {
                undo(creating, taken, e);
                throw e;
            }
        }
    }

    /** Snapshots the volume's replicas into {@code taken}; returns those it did not take, each with why. */
    private List<String> take(VolumeSnapshotSpec snap, List<ReplicaSnapshotRef> taken) {
        List<ReplicaSpec> mine = replicas.ofVolume(snap.volumeId()).stream().map(Versioned::spec)
                .filter(r -> r.operation() == OperationStatus.CREATED).toList();
        List<String> skipped = new ArrayList<>();
        Optional<Versioned<NexusSpec>> target = nexuses.of(snap.volumeId()).filter(n -> n.spec().operation() == OperationStatus.CREATED);
        if (target.isEmpty()) {
            // Unpublished: nothing writes to the replicas, each one's snapshot is of the same moment.
            snapshotAll(snap, mine, taken, skipped);
        } else {
            NexusSpec nexus = target.get().spec();
            var node = engines.node(nexus.nodeId());
            var pause = node.pauseNexusWrites(snap.volumeId(), PAUSE_LEASE);
            long t0 = System.nanoTime();
            Map<String, String> replicaOfUri = nexus.children().stream()
                    .collect(Collectors.toMap(NexusSpec.Child::uri, NexusSpec.Child::replicaUuid, (a, b) -> a));
            List<String> online = pause.getOnlineChildrenList().stream().map(replicaOfUri::get).filter(u -> u != null).toList();
            boolean held = false;
            List<String> unreachable = new ArrayList<>();
            try {
                List<ReplicaSpec> healthy = new ArrayList<>();
                for (ReplicaSpec r : mine) {
                    if (online.contains(r.uuid())) {
                        healthy.add(r);
                    } else {
                        skipped.add("replica " + r.uuid() + " on node " + r.nodeId() + ": not an Online child of the target (rebuilding, faulted or unreachable)");
                    }
                }
                snapshotAll(snap, healthy, taken, unreachable);
            } finally {
                try {
                    held = node.resumeNexusWrites(snap.volumeId(), pause.getPauseId());
                } catch (CoreException e) {
                    log.warn("resume of the target's writes failed volumeId={} nodeId={}: {}", snap.volumeId(), nexus.nodeId(), e.getMessage());
                }
            }
            log.info("snapshot write pause volumeId={} nodeId={} pauseMs={} held={}", snap.volumeId(), nexus.nodeId(),
                    (System.nanoTime() - t0) / 1_000_000, held);
            if (!held) {
                throw new CoreException.Unavailable("snapshot " + snap.id() + ": the target let writes go before every replica was"
                        + " snapshotted (its lease of " + PAUSE_LEASE.toSeconds() + " s ran out, or it restarted); retry");
            }
            if (!unreachable.isEmpty()) {
                // An Online child whose replica could not be snapshotted: the target's view and the node disagree. Not a
                // snapshot of every replica that holds the writes: refuse rather than hide it.
                throw new CoreException.Unavailable("snapshot " + snap.id() + ": " + String.join("; ", unreachable) + "; retry");
            }
        }
        if (taken.isEmpty()) {
            throw new CoreException.FailedPrecondition("volume " + snap.volumeId() + ": no healthy replica could be snapshotted: "
                    + String.join("; ", skipped));
        }
        return skipped;
    }

    /**
     * Snapshots the replicas at once (each on its own node); collects what was taken into {@code taken} and, for each
     * one whose node could not be reached, why into {@code unreachable}. Any other failure is thrown once all are done.
     */
    private void snapshotAll(VolumeSnapshotSpec snap, List<ReplicaSpec> rs, List<ReplicaSnapshotRef> taken, List<String> unreachable) {
        List<java.util.concurrent.Future<ReplicaSnapshotRef>> running = new ArrayList<>();
        for (ReplicaSpec r : rs) {
            running.add(nodeCalls.submit(() -> snapshotReplica(snap, r)));
        }
        CoreException first = null;
        for (int i = 0; i < rs.size(); i++) {
            try {
                taken.add(running.get(i).get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof CoreException.Unavailable u) {
                    unreachable.add("replica " + rs.get(i).uuid() + " on node " + rs.get(i).nodeId() + ": " + u.getMessage());
                } else if (first == null) {
                    first = e.getCause() instanceof CoreException ce ? ce
                            : new CoreException.Unavailable("replica snapshot failed: " + e.getCause(), e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CoreException.Unavailable("interrupted while snapshotting replicas", e);
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private ReplicaSnapshotRef snapshotReplica(VolumeSnapshotSpec snap, ReplicaSpec r) {
        String uuid = replicaSnapshotUuid(snap.id(), r.uuid());
        engines.node(r.nodeId()).createReplicaSnapshot(r.uuid(), uuid, snap.id(), snap.txnId());
        return new ReplicaSnapshotRef(uuid, r.uuid(), r.nodeId(), r.poolId());
    }

    /** The same volume snapshot and replica always name the same replica snapshot: retries find what they made. */
    public static String replicaSnapshotUuid(String snapshotId, String replicaUuid) {
        return UUID.nameUUIDFromBytes((snapshotId + "/" + replicaUuid).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** Destroys what a failed create made, then its spec; what cannot be reached now is left for a retry. */
    private void undo(Versioned<VolumeSnapshotSpec> creating, List<ReplicaSnapshotRef> taken, Exception cause) {
        log.warn("snapshot create failed snapshotId={} volumeId={}: {}", creating.spec().id(), creating.spec().volumeId(), cause.getMessage());
        try {
            for (ReplicaSnapshotRef ref : taken) {
                engines.node(ref.nodeId()).destroyReplicaSnapshot(ref.snapshotUuid());
            }
            store.delete(VolumeSnapshotSpec.KIND, creating);
        } catch (CoreException e) {
            cause.addSuppressed(e); // the spec stays Creating: the next create with this id discards the attempt
        }
    }

    /** Discards the replica snapshots a cut-short attempt may have made (every replica of the volume, by their derived uuids). */
    private void discardAttempt(Versioned<VolumeSnapshotSpec> creating) {
        for (Versioned<ReplicaSpec> r : replicas.ofVolume(creating.spec().volumeId())) {
            engines.node(r.spec().nodeId()).destroyReplicaSnapshot(replicaSnapshotUuid(creating.spec().id(), r.spec().uuid()));
        }
        store.delete(VolumeSnapshotSpec.KIND, creating);
    }

    // ---------------------------------------------------------------- destroy, read

    /** Deleting a snapshot that does not exist succeeds. Volumes restored from it keep their data (the pools keep it for them). */
    public void destroy(String snapshotId) {
        requireUuid("snapshot_id", snapshotId);
        Optional<Versioned<VolumeSnapshotSpec>> found = store.get(VolumeSnapshotSpec.KIND, snapshotId);
        if (found.isEmpty()) {
            return;
        }
        try (var held = guard.acquire(found.get().spec().volumeId(), WAIT)) {
            Optional<Versioned<VolumeSnapshotSpec>> current = store.get(VolumeSnapshotSpec.KIND, snapshotId);
            if (current.isEmpty()) {
                return;
            }
            Versioned<VolumeSnapshotSpec> deleting = current.get().spec().operation() == OperationStatus.DELETING ? current.get()
                    : store.update(VolumeSnapshotSpec.KIND, current.get(), current.get().spec().with(OperationStatus.DELETING));
            finishDestroy(deleting);
        }
    }

    private void finishDestroy(Versioned<VolumeSnapshotSpec> deleting) {
        for (ReplicaSnapshotRef ref : deleting.spec().replicas()) {
            // Unreachable: Unavailable, the spec stays Deleting and a repeated delete (or SnapshotSpecRecovery) finishes it.
            engines.node(ref.nodeId()).destroyReplicaSnapshot(ref.snapshotUuid());
        }
        store.delete(VolumeSnapshotSpec.KIND, deleting);
        events.record("snapshot", deleting.spec().id(), "SnapshotDestroyed", Severity.INFO, "snapshot of volume "
                + deleting.spec().volumeId() + " destroyed");
    }

    /**
     * Ends a snapshot spec nobody is working on that was left half-done: Creating (a create cut short by a crash, or
     * whose undo could not reach a node) is discarded with whatever replica snapshots it made, as a repeated create
     * would; Deleting is finished. The caller holds the volume's {@link #guard()}.
     */
    public void finishLeftover(Versioned<VolumeSnapshotSpec> left) {
        switch (left.spec().operation()) {
            case CREATING -> {
                discardAttempt(left);
                events.record("snapshot", left.spec().id(), "SnapshotDiscarded", Severity.WARNING, "snapshot of volume "
                        + left.spec().volumeId() + " was left half-made (its create ended without an answer); discarded");
            }
            case DELETING -> finishDestroy(left);
            default -> {
            }
        }
    }

    public VolumeSnapshotSpec get(String snapshotId) {
        requireUuid("snapshot_id", snapshotId);
        return store.get(VolumeSnapshotSpec.KIND, snapshotId).map(Versioned::spec)
                .orElseThrow(() -> new CoreException.NotFound("snapshot " + snapshotId + ": not found"));
    }

    public record Page(List<VolumeSnapshotSpec> snapshots, OptionalLong nextToken) {}

    /** Snapshots in (created, id) order, of one volume or all; {@code maxEntries} 0 for all, from offset {@code start}. */
    public Page list(String volumeId, int maxEntries, long start) {
        if (maxEntries < 0) {
            throw new CoreException.InvalidArgument("max_entries", "must not be negative");
        }
        if (start < 0) {
            throw new CoreException.InvalidArgument("starting_token", "must not be negative");
        }
        if (!volumeId.isEmpty()) {
            requireUuid("volume_id", volumeId);
        }
        List<VolumeSnapshotSpec> all = store.list(VolumeSnapshotSpec.KIND).stream().map(Versioned::spec)
                .filter(s -> volumeId.isEmpty() || s.volumeId().equals(volumeId))
                .sorted(Comparator.comparingLong(VolumeSnapshotSpec::createdMs).thenComparing(VolumeSnapshotSpec::id)).toList();
        int from = (int) Math.min(start, all.size());
        int to = maxEntries == 0 ? all.size() : (int) Math.min((long) from + maxEntries, all.size());
        return new Page(all.subList(from, to), to < all.size() ? OptionalLong.of(to) : OptionalLong.empty());
    }

    private List<VolumeSnapshotSpec> ofVolume(String volumeId) {
        return store.listWhere(VolumeSnapshotSpec.VOLUME, volumeId).stream().map(Versioned::spec).toList();
    }

    @Override
    public int of(String volumeId) {
        return ofVolume(volumeId).size();
    }

    @Override
    public Map<String, Integer> byVolume() {
        Map<String, Integer> counts = new java.util.HashMap<>();
        store.list(VolumeSnapshotSpec.KIND).forEach(s -> counts.merge(s.spec().volumeId(), 1, Integer::sum));
        return counts;
    }

    /** The replica snapshot as its node reports it now; empty when the node cannot be reached or no longer has it. */
    public Optional<io.javastor.api.ioengine.v1.ReplicaSnapshot> observe(ReplicaSnapshotRef ref) {
        try {
            return engines.node(ref.nodeId()).replicaSnapshot(ref.snapshotUuid());
        } catch (CoreException e) {
            log.debug("replica snapshot not observed snapshotUuid={} nodeId={}: {}", ref.snapshotUuid(), ref.nodeId(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * What the nodes report of replica snapshots, for one listing: each node is asked once, for all of its replica
     * snapshots, the first time one of them is wanted; a node that cannot be reached reports none.
     */
    public java.util.function.Function<ReplicaSnapshotRef, Optional<io.javastor.api.ioengine.v1.ReplicaSnapshot>> observer() {
        Map<String, Map<String, io.javastor.api.ioengine.v1.ReplicaSnapshot>> byNode = new java.util.HashMap<>();
        return ref -> Optional.ofNullable(byNode.computeIfAbsent(ref.nodeId(), node -> {
            try {
                return engines.node(node).replicaSnapshots().stream()
                        .collect(Collectors.toMap(io.javastor.api.ioengine.v1.ReplicaSnapshot::getUuid, rs -> rs, (a, b) -> a));
            } catch (CoreException e) {
                log.debug("replica snapshots not observed nodeId={}: {}", node, e.getMessage());
                return Map.of();
            }
        }).get(ref.snapshotUuid()));
    }

    /** For each snapshot, the volumes restored from it that still exist (one pass over the volumes). */
    public Map<String, List<String>> restoredVolumes() {
        return store.list(VolumeSpec.KIND).stream().map(Versioned::spec).filter(v -> !v.contentSource().isEmpty())
                .collect(Collectors.groupingBy(VolumeSpec::contentSource, java.util.TreeMap::new,
                        Collectors.mapping(VolumeSpec::uuid, Collectors.collectingAndThen(Collectors.toList(),
                                l -> l.stream().sorted().toList()))));
    }


    // ---------------------------------------------------------------- restore

    /**
     * A new volume holding the snapshot's image: one thin clone of each replica snapshot, in the pool that holds it (as
     * Mayastor restores: no data is copied). Its size is the snapshot's, or bigger when asked (the clones then grow).
     * Idempotent for the same volume id and snapshot; a create cut short is finished.
     */
    public VolumeView restore(String snapshotId, String volumeId, long size, int maxSnapshots) {
        requireUuid("volume_id", volumeId);
        VolumeSnapshotSpec snap = get(snapshotId);
        if (snap.operation() != OperationStatus.CREATED) {
            throw new CoreException.FailedPrecondition("snapshot " + snapshotId + ": is " + snap.operation().name().toLowerCase());
        }
        long wantedSize = size == 0 ? snap.size() : size;
        if (wantedSize < snap.size()) {
            throw new CoreException.InvalidArgument("size", wantedSize + " is smaller than the snapshot's " + snap.size());
        }
        VolumeSpec wanted = new VolumeSpec(volumeId, wantedSize, snap.replicas().size(), true, Topology.ANY, "",
                OperationStatus.CREATING, maxSnapshots, snapshotId, snap.volumeId());
        try (var held = guard.acquire(volumeId, WAIT)) {
            Optional<Versioned<VolumeSpec>> existing = store.get(VolumeSpec.KIND, volumeId);
            Versioned<VolumeSpec> creating;
            if (existing.isPresent()) {
                VolumeSpec have = existing.get().spec();
                if (!have.sameIntent(wanted)) {
                    throw new CoreException.AlreadyExists("volume " + volumeId + ": exists with a different spec"
                            + (have.contentSource().isEmpty() ? "" : " (restored from snapshot " + have.contentSource() + ")"));
                }
                if (have.operation() == OperationStatus.CREATED) {
                    return views.get(volumeId);
                }
                if (have.operation() != OperationStatus.CREATING) {
                    throw new CoreException.Conflict("volume " + volumeId + ": is being deleted");
                }
                creating = existing.get();
            } else {
                creating = store.create(VolumeSpec.KIND, wanted);
            }
            try {
                List<Versioned<ReplicaSpec>> have = replicas.ofVolume(volumeId);
                List<ReplicaSpec> missing = new ArrayList<>();
                for (ReplicaSnapshotRef ref : snap.replicas()) {
                    String cloneUuid = UUID.nameUUIDFromBytes((volumeId + "/" + ref.snapshotUuid()).getBytes(StandardCharsets.UTF_8)).toString();
                    if (have.stream().noneMatch(r -> r.spec().uuid().equals(cloneUuid))) {
                        missing.add(new ReplicaSpec(cloneUuid, ref.poolId(), ref.nodeId(), snap.size(), true, volumeId,
                                OperationStatus.CREATING, ref.snapshotUuid()));
                    }
                }
                List<Versioned<ReplicaSpec>> unfinished = new ArrayList<>(have.stream()
                        .filter(r -> r.spec().operation() == OperationStatus.CREATING).toList());
                unfinished.addAll(replicas.intendAll(missing));
                List<Versioned<ReplicaSpec>> live = new ArrayList<>(have.stream()
                        .filter(r -> r.spec().operation() == OperationStatus.CREATED).toList());
                live.addAll(replicas.realizeAll(unfinished));
                for (Versioned<ReplicaSpec> r : live) {
                    if (r.spec().size() < wantedSize) {
                        replicas.resize(r, wantedSize);
                    }
                }
                store.update(VolumeSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED));
                events.record("volume", volumeId, "VolumeRestored", Severity.INFO, "volume restored from snapshot " + snapshotId
                        + " of volume " + snap.volumeId() + ": " + live.size() + " clone replica(s), " + wantedSize + " bytes");
                return views.get(volumeId);
            } catch (CoreException e) {
                try {
                    volumes.rollBack(volumeId, e);
                } catch (CoreException rollBackFailure) {
                    e.addSuppressed(rollBackFailure); // left Creating: VolumeSpecRecovery finishes the undo
                }
                throw e;
            }
        }
    }

    private static void requireUuid(String field, String value) {
        try {
            if (value.isEmpty() || !UUID.fromString(value).toString().equalsIgnoreCase(value)) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new CoreException.InvalidArgument(field, "'" + value + "' is not a UUID");
        }
    }
}
