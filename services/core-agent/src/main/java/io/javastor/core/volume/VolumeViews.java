package io.javastor.core.volume;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import io.javastor.core.operation.CoreException;
import io.javastor.core.nexus.NexusInfo;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.node.ReplicaState;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * What a volume looks like now: its spec joined with its replicas, its target and what the nodes report, and the
 * volume's health from them. Read-only; one volume, or a page of them in uuid order.
 */
public final class VolumeViews {

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final NodeRegistry registry;
    private final NexusOperations nexuses;

    public VolumeViews(SpecStore store, ReplicaOperations replicas, NodeRegistry registry, NexusOperations nexuses) {
        this.store = store;
        this.replicas = replicas;
        this.registry = registry;
        this.nexuses = nexuses;
    }

    public VolumeView get(String uuid) {
        VolumeOperations.requireUuid(uuid);
        return of(store.get(VolumeSpec.KIND, uuid).orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found")).spec());
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
            views.add(of(v.spec(), byVolume.getOrDefault(v.spec().uuid(), List.of()), Optional.ofNullable(targets.get(v.spec().uuid())),
                    observed, infos.getOrDefault(v.spec().uuid(), NexusInfo.fresh(v.spec().uuid()))));
        }
        return new Page(views, to < all.size() ? OptionalLong.of(to) : OptionalLong.empty());
    }

    /**
     * What a listing is built from, by numbers: the revision of the specs it reads (when they come from the agent's
     * watch-fed copy) and the count of changes to what the nodes report. Read before the listing is built: a listing
     * built after a reader found these holds every change they count, and any change they do not count began after
     * that reader looked. Empty when the specs come from etcd, or a change of either is under way.
     */
    public Optional<ListingVersion> listingVersion() {
        var nodes = registry.settledChanges();
        var specs = store.servingRevision();
        return specs.isPresent() && nodes.isPresent() ? Optional.of(new ListingVersion(specs.getAsLong(), nodes.getAsLong())) : Optional.empty();
    }

    /** See {@link #listingVersion()}. */
    public record ListingVersion(long specRevision, long nodeChanges) {}

    /** The rebuilds the volume's targets ran, as recorded in the agent's database (see NexusOperations.rebuildHistory). */
    public NexusOperations.RebuildHistory rebuildHistory(String uuid) {
        VolumeOperations.requireUuid(uuid);
        store.get(VolumeSpec.KIND, uuid).orElseThrow(() -> new CoreException.NotFound("volume " + uuid + ": not found"));
        return nexuses.rebuildHistory(uuid);
    }

    /** The view of a volume whose spec the caller has just read or written. */
    VolumeView of(VolumeSpec spec) {
        return of(spec, replicas.ofVolume(spec.uuid()));
    }

    /** As {@link #of(VolumeSpec)}, with the volume's replicas the caller has at hand. */
    VolumeView of(VolumeSpec spec, List<Versioned<ReplicaSpec>> mine) {
        return of(spec, mine, nexuses.of(spec.uuid()).map(Versioned::spec), live(), nexuses.info().of(spec.uuid()));
    }

    private static VolumeView of(VolumeSpec spec, List<Versioned<ReplicaSpec>> mine, Optional<NexusSpec> nexus, Observations observed,
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

    /** The replica as its node reports it, if the node is Online and has it. */
    static Optional<ReplicaState> observed(NodeRegistry registry, ReplicaSpec r) {
        return registry.get(r.nodeId()).filter(n -> n.status().isOnline())
                .flatMap(n -> n.replicas().stream().filter(x -> x.uuid().equals(r.uuid())).findFirst());
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
                return observed(registry, r);
            }

            @Override
            public boolean heard(String nodeId) {
                return registry.get(nodeId).map(n -> !(n.status() instanceof NodeStatus.Unknown)).orElse(false);
            }
        };
    }

    private record Observed(Map<String, NodeStatus> nodeStatus, Map<String, ReplicaState> replicas) implements Observations {
        static Observed now(NodeRegistry registry) {
            Map<String, NodeStatus> status = new HashMap<>();
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
            return s != null && !(s instanceof NodeStatus.Unknown);
        }
    }
}
