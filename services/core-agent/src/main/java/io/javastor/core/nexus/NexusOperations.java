package io.javastor.core.nexus;

import io.javastor.api.ioengine.v1.DhchapSecrets;
import io.javastor.core.nvmeauth.NvmeSecrets;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.RebuildHistoryStore;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeOperations;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.node.NodeState;
import io.javastor.core.node.NodeStatePoller;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Creating and removing a volume's target: pick the node, share the remote replicas to it, create
 * the nexus over the replicas, publish it over NVMe-oF. Spec first (Creating), Created with the URI
 * last; every step repeatable. Callers hold the volume's guard.
 */
public final class NexusOperations implements NodeOperations.NexusesOnNodes {

    private static final Logger log = LoggerFactory.getLogger(NexusOperations.class);

    /**
     * Stale targets (volume@node) whose destroy is on record while they were still shutting down, so it is recorded
     * once. An entry outlives its target when no later pass sees it again: a few bytes per such target, at most.
     */
    private final java.util.Set<String> shuttingDown = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final SpecStore store;
    private final NodeRegistry registry;
    private final IoEngineConnections engines;
    private final EventHistory events;
    private final NexusInfoLedger info;
    private final NodeStatePoller poller;
    private final RebuildHistoryStore rebuilds;

    /** The DH-HMAC-CHAP secrets of the links from a target to its remote children. */
    private final NvmeSecrets secrets;

    /** How long a move waits for the old target's node to answer before treating it as gone (failover.answer-timeout). */
    private final Duration answerTimeout;

    public NexusOperations(SpecStore store, NodeRegistry registry, IoEngineConnections engines, EventHistory events, NexusInfoLedger info,
                           NodeStatePoller poller, RebuildHistoryStore rebuilds, Duration answerTimeout, NvmeSecrets secrets) {
        this.answerTimeout = answerTimeout;
        this.secrets = secrets;
        this.info = info;
        this.rebuilds = rebuilds;
        this.poller = poller;
        this.store = store;
        this.registry = registry;
        this.engines = engines;
        this.events = events;
    }

    /**
     * The volumes' created targets grouped by their node (what the target reconcilers check against each node's
     * running nexuses). Nexuses outside volumes are the user's to start and fill, so they are not listed.
     */
    public Map<String, List<Versioned<NexusSpec>>> volumeTargetsByNode() {
        Map<String, List<Versioned<NexusSpec>>> byNode = new HashMap<>();
        for (Versioned<NexusSpec> n : store.list(NexusSpec.KIND)) {
            if (n.spec().operation() == OperationStatus.CREATED && n.spec().ofVolume()) {
                byNode.computeIfAbsent(n.spec().nodeId(), k -> new ArrayList<>()).add(n);
            }
        }
        return byNode;
    }

    @Override
    public boolean anyOn(String nodeId) {
        return store.list(NexusSpec.KIND).stream().anyMatch(n -> n.spec().nodeId().equals(nodeId));
    }

    /** The volume's target; a nexus outside volumes that has the uuid is not one (a volume never touches it). */
    public Optional<Versioned<NexusSpec>> of(String volumeUuid) {
        return store.get(NexusSpec.KIND, volumeUuid).filter(n -> n.spec().ofVolume());
    }

    /** What the volume's targets said about its replicas. */
    public NexusInfoLedger info() {
        return info;
    }

    /**
     * Publishes the volume on {@code preferredNode}, or on an eligible node holding one of its
     * replicas (fewest targets first), or on any eligible node.
     */
    public NexusSpec publish(String volumeUuid, long size, List<Versioned<ReplicaSpec>> replicas, String preferredNode,
                             List<String> allowedHosts) {
        store.get(NexusSpec.KIND, volumeUuid).filter(n -> !n.spec().ofVolume()).ifPresent(n -> {
            throw new CoreException.InUse("volume " + volumeUuid + ": a nexus outside volumes on node " + n.spec().nodeId()
                    + " has this uuid; destroy it first", Map.of("nexus", volumeUuid));
        });
        Map<String, NodeSpec> nodes = new HashMap<>();
        store.list(NodeSpec.KIND).forEach(n -> nodes.put(n.spec().id(), n.spec()));
        List<ReplicaSpec> usable = replicas.stream().map(Versioned::spec)
                .filter(r -> r.operation() == OperationStatus.CREATED && online(r.nodeId())).toList();
        if (usable.isEmpty()) {
            throw new CoreException.FailedPrecondition("volume " + volumeUuid + ": no replica is on an Online node");
        }
        NexusInfo known = info.of(volumeUuid);
        List<ReplicaSpec> inSync = usable.stream().filter(r -> known.inSync(r.uuid())).toList();
        if (inSync.isEmpty()) {
            // Serving a replica that misses acknowledged writes would hand back old data: refuse until one returns.
            throw new CoreException.FailedPrecondition("volume " + volumeUuid + ": no in-sync replica is on an Online node (out of sync: "
                    + known.outOfSync() + ")");
        }
        String nodeId = chooseNode(volumeUuid, replicas.stream().filter(r -> known.inSync(r.spec().uuid())).toList(), preferredNode, nodes);
        List<ReplicaSpec> start = startingChildren(known, inSync, nodeId);
        List<ReplicaSpec> rebuildLater = usable.stream().filter(r -> !start.contains(r)).toList();
        // On record before the target exists: if it dies, the next one knows whom to trust.
        info.outOfSync(volumeUuid, rebuildLater.stream().map(ReplicaSpec::uuid).toList());
        info.targetOpening(volumeUuid);
        String nexusHostNqn = nodes.get(nodeId).nodeNqn();
        List<NexusSpec.Child> children = new ArrayList<>();
        Versioned<NexusSpec> creating = store.create(NexusSpec.KIND, new NexusSpec(volumeUuid, nodeId, List.of(), allowedHosts, "",
                OperationStatus.CREATING));
        try {
            for (ReplicaSpec r : start) {
                children.add(childOn(nodeId, nexusHostNqn, r));
            }
            // Record the shares before the nexus exists, so an undo knows what to unshare.
            creating = store.update(NexusSpec.KIND, creating, new NexusSpec(volumeUuid, nodeId, children, allowedHosts, "",
                    OperationStatus.CREATING));
            var engine = engines.node(nodeId);
            long generation = info.nextTargetGeneration(volumeUuid);
            engine.createNexus(volumeUuid, size, children.stream().map(NexusSpec.Child::uri).toList(), generation,
                    linkSecrets(children, nexusHostNqn));
            String uri = observed(nodeId, engine.publishNexus(volumeUuid, allowedHosts, hostSecrets(volumeUuid, allowedHosts))).getDeviceUri();
            Versioned<NexusSpec> created = store.update(NexusSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED, uri));
            for (ReplicaSpec r : rebuildLater) {
                created = addChild(created, r);
            }
            events.record("volume", volumeUuid, "VolumePublished", Severity.INFO, "published on node " + nodeId + " at " + uri
                    + " with " + children.size() + " child(ren)" + (rebuildLater.isEmpty() ? "" : ", " + rebuildLater.size() + " more rebuilding"));
            log.info("volume published volumeId={} nodeId={} uri={} rebuilding={}", volumeUuid, nodeId, uri, rebuildLater.size());
            return created.spec();
        } catch (CoreException e) {
            try {
                Versioned<NexusSpec> current = store.get(NexusSpec.KIND, volumeUuid).orElse(creating);
                remove(current);
            } catch (CoreException undoFailure) {
                e.addSuppressed(undoFailure); // left Creating: NexusSpecRecovery finishes the undo
            }
            throw e;
        }
    }

    /**
     * Destroys the nexus and unshares its remote replicas, then removes the spec. A node that
     * cannot be reached leaves the spec Deleting for the reconciler; returns whether it finished.
     */
    public boolean remove(Versioned<NexusSpec> current) {
        Versioned<NexusSpec> deleting = current.spec().operation() == OperationStatus.DELETING
                ? current : store.update(NexusSpec.KIND, current, current.spec().with(OperationStatus.DELETING, current.spec().uri()));
        NexusSpec s = deleting.spec();
        if (!online(s.nodeId())) {
            log.warn("nexus left Deleting: node not Online volumeId={} nodeId={}", s.uuid(), s.nodeId());
            return false;
        }
        var engine = engines.node(s.nodeId());
        boolean running = engine.listNexus().stream().anyMatch(x -> x.getUuid().equals(s.uuid()));
        engine.destroyNexus(s.uuid());
        poller.nexusGone(s.nodeId(), s.uuid());
        if (running && s.operation() != OperationStatus.CREATING && s.ofVolume()) {
            // Destroyed in order (it drains its I/O first): its in-sync children now hold the same data. A nexus that
            // was not running had died, and a Creating one may never have been complete: neither says so.
            info.targetClosed(s.uuid());
        }
        for (NexusSpec.Child c : s.children()) {
            if (c.shared() && online(c.replicaNodeId())) {
                try {
                    engines.node(c.replicaNodeId()).unshareReplica(c.replicaUuid());
                } catch (CoreException.NotFound gone) {
                    log.info("replica already gone while unsharing uuid={}", c.replicaUuid());
                }
            }
        }
        store.delete(NexusSpec.KIND, deleting);
        if (s.ofVolume()) {
            events.record("volume", s.uuid(), "VolumeUnpublished", Severity.INFO, "nexus on node " + s.nodeId() + " removed");
        } else {
            events.record("nexus", s.uuid(), "NexusDestroyed", Severity.INFO, "nexus outside volumes destroyed on node " + s.nodeId());
        }
        return true;
    }

    /**
     * Moves a volume's target to another node (a republish, a drain, its node went Offline): the old nexus is destroyed
     * first when its node answers (in order: its replicas are then free to be shared to the new one), then a new nexus on
     * {@code toNode} (empty: an eligible node other than the old one) over the in-sync replicas it can reach, fenced
     * with a new target generation, so the old nexus, if it is still alive somewhere, can no longer write to them
     * (docs/ha.md); published for the same hosts. The others are out of sync on record and rebuilt once reachable.
     * Caller holds the volume's guard.
     */
    public NexusSpec move(Versioned<NexusSpec> current, long size, List<Versioned<ReplicaSpec>> replicas, String toNode, String reason) {
        NexusSpec old = current.spec();
        String volumeUuid = old.uuid();
        String from = old.nodeId();
        Map<String, NodeSpec> nodes = new HashMap<>();
        store.list(NodeSpec.KIND).forEach(n -> nodes.put(n.spec().id(), n.spec()));
        String to = toNode != null && !toNode.isEmpty() ? chooseNode(volumeUuid, List.of(), toNode, nodes)
                : chooseNode(volumeUuid, replicas.stream().filter(r -> !r.spec().nodeId().equals(from)).toList(), null,
                        nodes.entrySet().stream().filter(e -> !e.getKey().equals(from))
                                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        if (to.equals(from)) {
            throw new CoreException.FailedPrecondition("volume " + volumeUuid + ": its target is on node " + from + " already");
        }
        // Online on record is not enough (the node may have died, or froze, a second ago): it answers only if it answers
        // now, within a short deadline, so a silent node does not hold the hosts' I/O for a whole call timeout.
        boolean fromAnswers = online(from) && answersNow(from) && stopOldTarget(old);
        NexusInfo known = info.of(volumeUuid);
        List<ReplicaSpec> usable = replicas.stream().map(Versioned::spec)
                .filter(r -> r.operation() == OperationStatus.CREATED && observed(r) && (fromAnswers || !r.nodeId().equals(from))).toList();
        List<ReplicaSpec> inSync = usable.stream().filter(r -> known.inSync(r.uuid())).toList();
        if (inSync.isEmpty()) {
            throw new CoreException.FailedPrecondition("volume " + volumeUuid + ": no in-sync replica is reachable to move its target to node "
                    + to + " (out of sync: " + known.outOfSync() + ")");
        }
        List<ReplicaSpec> start = startingChildren(known, inSync, to);
        // Whatever does not start the new target misses its writes from now on: on record before it serves.
        info.outOfSync(volumeUuid, replicas.stream().map(r -> r.spec().uuid()).filter(u -> start.stream().noneMatch(s -> s.uuid().equals(u))).toList());
        info.targetOpening(volumeUuid);
        String nqn = nodes.get(to).nodeNqn();
        List<NexusSpec.Child> children = new ArrayList<>();
        for (ReplicaSpec r : start) {
            if (r.nodeId().equals(to)) {
                // Shared to the old target (it was remote there): the share is its one writer. Unsharing also cuts the old
                // target off this replica; the new target opens it locally.
                engines.node(to).unshareReplica(r.uuid());
            }
            children.add(childOn(to, nqn, r));
        }
        Versioned<NexusSpec> moving = store.update(NexusSpec.KIND, current, new NexusSpec(volumeUuid, to, children, old.allowedHosts(), "",
                OperationStatus.CREATING));
        var engine = engines.node(to);
        long generation = info.nextTargetGeneration(volumeUuid);
        String uri;
        try {
            engine.createNexus(volumeUuid, size, children.stream().map(NexusSpec.Child::uri).toList(), generation, linkSecrets(children, nqn));
            uri = observed(to, engine.publishNexus(volumeUuid, old.allowedHosts(), hostSecrets(volumeUuid, old.allowedHosts()))).getDeviceUri();
        } catch (CoreException e) {
            abandonMove(moving, old, to, fromAnswers, e);
            throw e;
        }
        Versioned<NexusSpec> created = store.update(NexusSpec.KIND, moving, moving.spec().with(OperationStatus.CREATED, uri));
        for (ReplicaSpec r : usable) {
            if (!start.contains(r)) {
                try {
                    created = addChild(created, r);
                } catch (CoreException e) {
                    // The target serves already; MissingNexusChildAdder adds this one once its node answers.
                    log.warn("replica not added to the moved target volumeId={} replicaId={} nodeId={}: {}", volumeUuid, r.uuid(),
                            r.nodeId(), e.getMessage());
                    created = store.get(NexusSpec.KIND, volumeUuid).orElse(created);
                }
            }
        }
        events.record("volume", volumeUuid, "TargetMoved", Severity.WARNING, "target moved from node " + from + " to node " + to + " ("
                + reason + "), generation " + generation + ", at " + uri + (fromAnswers ? "; the old one was shut down" : "; the old node does "
                + "not answer: its target is fenced off the replicas"));
        log.info("target moved volumeId={} from={} to={} reason={} generation={} uri={}", volumeUuid, from, to, reason, generation, uri);
        return created.spec();
    }

    /**
     * A move whose new node did not make or publish the target: the volume's target is its old one again on record (left
     * Creating on the new node, spec recovery would remove it and leave a published volume without a target). If the old
     * node answered, its nexus was shut down, and the re-creator makes it again there; if not, the mover that asked tries
     * again. What the new node may have made late is a stale target there, which the stale-target collector destroys.
     */
    private void abandonMove(Versioned<NexusSpec> moving, NexusSpec old, String to, boolean oldShutDown, CoreException cause) {
        // A node that timed out is asked only if it answers now: a second call timeout would hold the volume's guard again
        // for nothing (what it makes late is a stale target).
        if (answersNow(to)) {
            try {
                engines.node(to).destroyNexus(old.uuid());
            } catch (CoreException notThere) {
                cause.addSuppressed(notThere);
            }
        }
        // Replicas on the old node were shared for the new target; shared, the old node cannot open them as local children again.
        for (NexusSpec.Child c : moving.spec().children()) {
            if (c.shared() && c.replicaNodeId().equals(old.nodeId())) {
                try {
                    engines.node(old.nodeId()).unshareReplica(c.replicaUuid());
                } catch (CoreException notNow) {
                    cause.addSuppressed(notNow); // the old node does not answer now: the re-creator shares what it needs anew
                }
            }
        }
        store.update(NexusSpec.KIND, moving, old);
        events.record("volume", old.uuid(), "TargetMoveFailed", Severity.WARNING, "target not moved from node " + old.nodeId() + " to node "
                + to + ": " + cause.getMessage() + "; it stays on node " + old.nodeId() + (oldShutDown ? " and is made again there" : ""));
        log.warn("target move failed volumeId={} from={} to={}: {}", old.uuid(), old.nodeId(), to, cause.getMessage());
    }

    /**
     * Destroys the volume's old targets: nexuses with its uuid that an Online node still runs although the volume's
     * target is elsewhere (or it has none), as after a move away from a node that was cut off but alive. They are
     * fenced already; this frees what they hold and takes their paths away. Caller holds the volume's guard.
     * Returns how many were destroyed.
     */
    public int shutdownStaleTargets(String volumeUuid, String reason) {
        String current = of(volumeUuid).map(Versioned::spec).filter(n -> n.operation() == OperationStatus.CREATED || n.operation() == OperationStatus.CREATING)
                .map(NexusSpec::nodeId).orElse("");
        int destroyed = 0;
        for (NodeState node : registry.all()) {
            if (!node.status().isOnline() || node.nodeId().equals(current)
                    || node.nexuses().stream().noneMatch(x -> x.uuid().equals(volumeUuid))) {
                continue;
            }
            var engine = engines.node(node.nodeId());
            if (engine.listNexus().stream().noneMatch(x -> x.getUuid().equals(volumeUuid))) {
                poller.nexusGone(node.nodeId(), volumeUuid); // the inventory was behind: nothing runs there
                continue;
            }
            try {
                engine.destroyNexus(volumeUuid);
            } catch (CoreException.Unavailable notClean) {
                // Destroyed without an orderly shutdown (a fenced target cannot flush), or still shutting down: nothing is
                // recorded from it (the current target decides what is in sync); gone or not, the list below says.
                log.info("stale target not shut down cleanly volumeId={} nodeId={}: {}", volumeUuid, node.nodeId(), notClean.getMessage());
            }
            String key = volumeUuid + "@" + node.nodeId();
            String where = current.isEmpty() ? "" : "; the target is on node " + current;
            if (engine.listNexus().stream().anyMatch(x -> x.getUuid().equals(volumeUuid))) {
                // Still shutting down (a fenced target's flush waits out its children's reconnects): it may be gone
                // before the next pass, which then no longer sees it, so the destroy is on record now, once.
                if (shuttingDown.add(key)) {
                    events.record("volume", volumeUuid, "StaleTargetDestroyed", Severity.WARNING, "old target on node " + node.nodeId()
                            + " destroyed (" + reason + "); it was still shutting down" + where);
                }
                continue; // the next pass looks again
            }
            poller.nexusGone(node.nodeId(), volumeUuid);
            if (!shuttingDown.remove(key)) {
                events.record("volume", volumeUuid, "StaleTargetDestroyed", Severity.WARNING, "old target on node " + node.nodeId()
                        + " destroyed (" + reason + ")" + where);
            }
            log.info("stale target destroyed volumeId={} nodeId={} current={} reason={}", volumeUuid, node.nodeId(), current, reason);
            destroyed++;
        }
        return destroyed;
    }

    /**
     * Destroys the old target in order (its node answers) and unshares what it used, so the replicas are free again.
     * Returns whether its node answered.
     */
    private boolean stopOldTarget(NexusSpec old) {
        var engine = engines.node(old.nodeId());
        boolean answered = false;
        try {
            boolean running = engine.listNexus().stream().anyMatch(x -> x.getUuid().equals(old.uuid()));
            answered = true;
            engine.destroyNexus(old.uuid());
            poller.nexusGone(old.nodeId(), old.uuid());
            if (running) {
                info.targetClosed(old.uuid());
            }
        } catch (CoreException e) {
            // Not shut down in order: not clean on record (targetOpening below), and the new generation fences it.
            log.warn("old target not shut down in order volumeId={} nodeId={}: {}", old.uuid(), old.nodeId(), e.getMessage());
        }
        for (NexusSpec.Child c : old.children()) {
            if (c.shared() && online(c.replicaNodeId())) {
                try {
                    engines.node(c.replicaNodeId()).unshareReplica(c.replicaUuid());
                } catch (CoreException.NotFound gone) {
                    log.info("replica already gone while unsharing uuid={}", c.replicaUuid());
                }
            }
        }
        return answered;
    }

    /**
     * The target's node runs no nexus for it (the io-engine restarted): builds it again at the same place, from the
     * children that are in sync and reachable, so hosts reconnecting to the same address find the volume; the
     * other reachable children are rebuilt. Caller holds the volume's guard. Returns false when no in-sync
     * child is reachable yet (nothing is done; the caller comes back).
     */
    public boolean recreate(Versioned<NexusSpec> current, long size, List<Versioned<ReplicaSpec>> replicas) {
        NexusSpec n = current.spec();
        Map<String, ReplicaSpec> live = new HashMap<>();
        // Reachable: Created, and seen on its Online node (a restarted node has re-imported its pool).
        replicas.stream().map(Versioned::spec).filter(r -> r.operation() == OperationStatus.CREATED && observed(r))
                .forEach(r -> live.put(r.uuid(), r));
        List<ReplicaSpec> reachable = n.children().stream().map(c -> live.get(c.replicaUuid())).filter(java.util.Objects::nonNull).toList();
        // The target died without an orderly shutdown: on record before anything else (a crash now must not look clean).
        info.targetOpening(n.uuid());
        NexusInfo known = info.of(n.uuid());
        List<ReplicaSpec> inSync = reachable.stream().filter(r -> known.inSync(r.uuid())).toList();
        if (inSync.isEmpty()) {
            // Usually the node has not re-imported its pool yet; the reconciler comes back.
            log.debug("target not re-created yet: no in-sync child reachable volumeId={} nodeId={} outOfSync={}", n.uuid(), n.nodeId(),
                    known.outOfSync());
            return false;
        }
        List<ReplicaSpec> start = startingChildren(known, inSync, n.nodeId());
        List<ReplicaSpec> rebuildLater = reachable.stream().filter(r -> !start.contains(r)).toList();
        info.outOfSync(n.uuid(), rebuildLater.stream().map(ReplicaSpec::uuid).toList());
        String nqn = nexusHostNqn(n.nodeId());
        // Shares are not persistent either: share again (idempotent) wherever the replica's node restarted too.
        Map<String, NexusSpec.Child> fresh = new HashMap<>();
        for (ReplicaSpec r : reachable) {
            fresh.put(r.uuid(), childOn(n.nodeId(), nqn, r));
        }
        List<NexusSpec.Child> children = n.children().stream().map(c -> fresh.getOrDefault(c.replicaUuid(), c)).toList();
        Versioned<NexusSpec> updated = store.update(NexusSpec.KIND, current, n.withChildren(children));
        var engine = engines.node(n.nodeId());
        long generation = info.nextTargetGeneration(n.uuid());
        List<NexusSpec.Child> starting = start.stream().map(r -> fresh.get(r.uuid())).toList();
        engine.createNexus(n.uuid(), size, starting.stream().map(NexusSpec.Child::uri).toList(), generation, linkSecrets(starting, nqn));
        String uri = observed(n.nodeId(), engine.publishNexus(n.uuid(), n.allowedHosts(), hostSecrets(n.uuid(), n.allowedHosts()))).getDeviceUri();
        if (!uri.equals(n.uri())) {
            log.warn("target re-created at another address volumeId={} was={} now={}", n.uuid(), n.uri(), uri);
            updated = store.update(NexusSpec.KIND, updated, updated.spec().with(OperationStatus.CREATED, uri));
        }
        events.record("volume", n.uuid(), "TargetRecreated", Severity.WARNING, "the target on node " + n.nodeId()
                + " was gone (io-engine restarted); re-created at " + uri + " from " + start.size() + " in-sync child(ren), "
                + rebuildLater.size() + " to rebuild");
        log.info("target re-created volumeId={} nodeId={} uri={} children={} toRebuild={}", n.uuid(), n.nodeId(), uri, start.size(),
                rebuildLater.size());
        // The others join next (MissingNexusChildAdder), each rebuilt from the in-sync ones.
        return true;
    }

    /**
     * A child the spec lists but the running nexus lacks (left out of a re-created target, or an add cut short)
     * joins it again and is rebuilt; shared again first in case its node restarted. Caller holds the volume's guard.
     */
    public Versioned<NexusSpec> rejoin(Versioned<NexusSpec> current, ReplicaSpec replica) {
        NexusSpec n = current.spec();
        info.outOfSync(n.uuid(), List.of(replica.uuid()));
        NexusSpec.Child child = childOn(n.nodeId(), nexusHostNqn(n.nodeId()), replica);
        Versioned<NexusSpec> next = withChild(current, child);
        observed(n.nodeId(), engines.node(n.nodeId()).addChildNexus(n.uuid(), child.uri(), linkSecret(child, n.nodeId())));
        events.record("volume", n.uuid(), "RebuildStarted", Severity.INFO, "replica " + replica.uuid() + " on node " + replica.nodeId()
                + " rejoined the target; rebuilding from the in-sync children");
        log.info("child rejoined target volumeId={} replicaId={} nodeId={}", n.uuid(), replica.uuid(), replica.nodeId());
        return next;
    }

    /**
     * A child the running target faulted (I/O error, dropped connection, its io-engine restarted) is added back on the
     * same replica: the io-engine reopens it and picks a partial or full rebuild itself. Out of sync on record first
     * (in sync again only when the target reports the rebuild completed); shared again first, since a restarted
     * io-engine has lost its shares. A share that moved means a new child URI: the old one leaves the target first.
     * Caller holds the volume's guard.
     */
    public Versioned<NexusSpec> retryFaulted(Versioned<NexusSpec> current, ReplicaSpec replica, String faultedUri) {
        NexusSpec n = current.spec();
        info.outOfSync(n.uuid(), List.of(replica.uuid()));
        NexusSpec.Child child = childOn(n.nodeId(), nexusHostNqn(n.nodeId()), replica);
        if (!child.uri().equals(faultedUri)) {
            log.info("faulted child's share moved volumeId={} replicaId={} was={} now={}", n.uuid(), replica.uuid(), faultedUri, child.uri());
            observed(n.nodeId(), engines.node(n.nodeId()).removeChildNexus(n.uuid(), faultedUri));
        }
        Versioned<NexusSpec> next = withChild(current, child);
        observed(n.nodeId(), engines.node(n.nodeId()).addChildNexus(n.uuid(), child.uri(), linkSecret(child, n.nodeId())));
        log.info("faulted child added back volumeId={} replicaId={} nodeId={} uri={}", n.uuid(), replica.uuid(), replica.nodeId(), child.uri());
        return next;
    }

    /** The spec with the replica's child as given (its share may have moved); unchanged specs are not written. */
    private Versioned<NexusSpec> withChild(Versioned<NexusSpec> current, NexusSpec.Child child) {
        NexusSpec n = current.spec();
        if (n.children().stream().anyMatch(c -> c.equals(child))) {
            return current;
        }
        List<NexusSpec.Child> children = n.children().stream().map(c -> c.replicaUuid().equals(child.replicaUuid()) ? child : c).toList();
        return store.update(NexusSpec.KIND, current, n.withChildren(children));
    }

    private String nexusHostNqn(String nodeId) {
        return store.get(NodeSpec.KIND, nodeId).map(v -> v.spec().nodeNqn())
                .orElseThrow(() -> new CoreException.NotFound("node " + nodeId + ": not found"));
    }

    /** Folds a nexus change made outside this class (the nexus API's) into the observed state. */
    public io.javastor.api.ioengine.v1.Nexus observedNow(String nodeId, io.javastor.api.ioengine.v1.Nexus now) {
        return observed(nodeId, now);
    }

    /** Folds a nexus destroyed outside this class (the nexus API's) into the observed state. */
    public void observedGone(String nodeId, String uuid) {
        poller.nexusGone(nodeId, uuid);
    }

    /** Whether the replica can serve as a child now: Created and seen on its Online node. */
    public boolean reachable(ReplicaSpec r) {
        return r.operation() == OperationStatus.CREATED && observed(r);
    }

    /**
     * Whether the replica's node lists its pool but not the replica, asked now (not the observed inventory, whose pool
     * and replica lists are fetched one after the other and may straddle the pool's import after a restart).
     */
    public boolean goneFromItsPoolNow(ReplicaSpec r) {
        var engine = engines.node(r.nodeId());
        return engine.listPools().stream().anyMatch(p -> p.getName().equals(r.poolId()))
                && engine.listReplicas().stream().noneMatch(x -> x.getUuid().equals(r.uuid()));
    }

    /** Makes a new replica a child of the volume's target; the io-engine rebuilds it from the others. */
    public Versioned<NexusSpec> addChild(Versioned<NexusSpec> current, ReplicaSpec replica) {
        NexusSpec n = current.spec();
        if (n.children().stream().anyMatch(c -> c.replicaUuid().equals(replica.uuid()))) {
            return current;
        }
        NexusSpec.Child child = childOn(n.nodeId(), nexusHostNqn(n.nodeId()), replica);
        // Out of sync until its rebuild completes (the target reports that).
        info.outOfSync(n.uuid(), List.of(replica.uuid()));
        List<NexusSpec.Child> children = new ArrayList<>(n.children());
        children.add(child);
        // Spec first: if the add is cut short, the child is known and removing it is repeatable.
        Versioned<NexusSpec> next = store.update(NexusSpec.KIND, current,
                n.withChildren(children));
        observed(n.nodeId(), engines.node(n.nodeId()).addChildNexus(n.uuid(), child.uri(), linkSecret(child, n.nodeId())));
        events.record("volume", n.uuid(), "RebuildStarted", Severity.INFO, "replica " + replica.uuid() + " on node "
                + replica.nodeId() + " added to the nexus; rebuilding from the healthy children");
        return next;
    }

    /**
     * Grows the volume's target to {@code size} (its replicas have grown already). Idempotent: the io-engine answers
     * a nexus already at that size with it; it refuses (FAILED_PRECONDITION) while a child is too small or a rebuild runs.
     */
    public void resize(Versioned<NexusSpec> current, long size) {
        NexusSpec n = current.spec();
        var grown = observed(n.nodeId(), engines.node(n.nodeId()).resizeNexus(n.uuid(), size));
        events.record("volume", n.uuid(), "NexusResized", Severity.INFO, "nexus on node " + n.nodeId() + " is " + grown.getSize()
                + " bytes; connected hosts were told");
        log.info("nexus resized volumeId={} nodeId={} size={}", n.uuid(), n.nodeId(), grown.getSize());
    }

    /** Takes a replica out of the volume's target (before it is destroyed). */
    public Versioned<NexusSpec> removeChild(Versioned<NexusSpec> current, String replicaUuid) {
        NexusSpec n = current.spec();
        Optional<NexusSpec.Child> child = n.children().stream().filter(c -> c.replicaUuid().equals(replicaUuid)).findFirst();
        if (child.isEmpty()) {
            return current;
        }
        if (online(n.nodeId())) {
            observed(n.nodeId(), engines.node(n.nodeId()).removeChildNexus(n.uuid(), child.get().uri()));
        }
        if (child.get().shared() && online(child.get().replicaNodeId())) {
            try {
                engines.node(child.get().replicaNodeId()).unshareReplica(replicaUuid);
            } catch (CoreException.NotFound gone) {
                // The replica itself is gone (the reason it leaves, for a replica lost from its pool): nothing is shared.
                log.info("replica already gone while unsharing uuid={}", replicaUuid);
            }
        }
        List<NexusSpec.Child> children = n.children().stream().filter(c -> !c.replicaUuid().equals(replicaUuid)).toList();
        return store.update(NexusSpec.KIND, current, n.withChildren(children));
    }

    /**
     * The children a new target starts with. After an orderly shutdown every in-sync replica holds the same data;
     * after a crash they may differ where writes were in flight, so one is chosen (the target node's own first)
     * and the others are rebuilt from it.
     */
    private static List<ReplicaSpec> startingChildren(NexusInfo known, List<ReplicaSpec> inSync, String nodeId) {
        if (known.cleanShutdown()) {
            return inSync;
        }
        return List.of(inSync.stream().filter(r -> r.nodeId().equals(nodeId)).findFirst().orElse(inSync.get(0)));
    }

    /**
     * The replica as a child of a target on {@code nodeId}: local, or shared over NVMe-oF to that node only, which
     * authenticates with the link's secrets (and the share with them back).
     */
    private NexusSpec.Child childOn(String nodeId, String nexusHostNqn, ReplicaSpec r) {
        if (r.nodeId().equals(nodeId)) {
            return new NexusSpec.Child(r.uuid(), r.nodeId(), "bdev:///" + r.uuid(), false);
        }
        String uri = engines.node(r.nodeId()).shareReplica(r.uuid(), nexusHostNqn, secrets.forLink(r.uuid(), nexusHostNqn));
        return new NexusSpec.Child(r.uuid(), r.nodeId(), uri, true);
    }

    /** The link secrets of the shared (remote) children, by child URI, as a new nexus authenticates with them. */
    private Map<String, DhchapSecrets> linkSecrets(List<NexusSpec.Child> children, String nexusHostNqn) {
        Map<String, DhchapSecrets> out = new HashMap<>();
        for (NexusSpec.Child c : children) {
            DhchapSecrets link = c.shared() ? secrets.forLink(c.replicaUuid(), nexusHostNqn) : null;
            if (link != null) {
                out.put(c.uri(), link);
            }
        }
        return out;
    }

    /**
     * The secrets each allowed host of the volume's target authenticates with, by host NQN; empty when hosts do not
     * authenticate, or when any host may connect (no host list: nothing to name the secrets by).
     */
    private Map<String, DhchapSecrets> hostSecrets(String volumeUuid, List<String> allowedHosts) {
        return secrets.forHosts(volumeUuid, allowedHosts);
    }

    /** The secrets {@code hostNqn} connects to the volume's target with; refused unless the target admits that host. */
    public DhchapSecrets hostSecretsOf(String volumeUuid, String hostNqn) {
        // A volume's target or a nexus made outside volumes: both authenticate their hosts the same way.
        NexusSpec n = store.get(NexusSpec.KIND, volumeUuid).map(Versioned::spec)
                .orElseThrow(() -> new CoreException.FailedPrecondition("volume " + volumeUuid + " is not published"));
        if (!n.allowedHosts().contains(hostNqn)) {
            throw new CoreException.PermissionDenied((n.ofVolume() ? "volume " : "nexus ") + volumeUuid + " is not "
                    + (n.ofVolume() ? "published" : "shared") + " to host " + hostNqn);
        }
        DhchapSecrets pair = secrets.forHost(volumeUuid, hostNqn);
        return pair == null ? DhchapSecrets.getDefaultInstance() : pair;
    }

    /** The secrets a target on {@code nodeId} authenticates to {@code child} with; null for a local child or when off. */
    private DhchapSecrets linkSecret(NexusSpec.Child child, String nodeId) {
        return child.shared() ? secrets.forLink(child.replicaUuid(), nexusHostNqn(nodeId)) : null;
    }

    /** The rebuilds of the volume's targets: where its target runs now (empty while unpublished) and the finished rebuilds, oldest first. */
    public record RebuildHistory(String nodeId, List<io.javastor.api.ioengine.v1.RebuildStats> records) {}

    /**
     * From the agent's database (see RebuildHistoryRecorder), not from the target: it outlives the io-engine and the
     * agent, and is served while the target's node is down or the volume unpublished.
     */
    public RebuildHistory rebuildHistory(String volumeUuid) {
        String nodeId = of(volumeUuid).map(Versioned::spec).filter(n -> n.operation() == OperationStatus.CREATED).map(NexusSpec::nodeId).orElse("");
        return new RebuildHistory(nodeId, rebuilds.of(volumeUuid));
    }

    private String chooseNode(String volumeUuid, List<Versioned<ReplicaSpec>> replicas, String preferred, Map<String, NodeSpec> nodes) {
        if (preferred != null && !preferred.isEmpty()) {
            NodeSpec n = nodes.get(preferred);
            if (n == null) {
                throw new CoreException.NotFound("node " + preferred + ": not found");
            }
            if (!online(preferred)) {
                throw new CoreException.Unavailable("node " + preferred + ": not Online");
            }
            if (n.cordoned()) {
                throw new CoreException.FailedPrecondition("node " + preferred + ": is cordoned");
            }
            return preferred;
        }
        Map<String, Integer> targets = new HashMap<>();
        store.list(NexusSpec.KIND).forEach(x -> targets.merge(x.spec().nodeId(), 1, Integer::sum));
        Comparator<String> fewestTargets = Comparator.<String>comparingInt(id -> targets.getOrDefault(id, 0)).thenComparing(id -> id);
        Optional<String> withReplica = replicas.stream().map(r -> r.spec().nodeId())
                .filter(id -> eligible(id, nodes)).sorted(fewestTargets).findFirst();
        return withReplica.orElseGet(() -> nodes.keySet().stream().filter(id -> eligible(id, nodes)).sorted(fewestTargets).findFirst()
                .orElseThrow(() -> new CoreException.FailedPrecondition("volume " + volumeUuid + ": no Online, uncordoned node can hold its target")));
    }

    private boolean eligible(String nodeId, Map<String, NodeSpec> nodes) {
        NodeSpec n = nodes.get(nodeId);
        return n != null && !n.cordoned() && online(nodeId);
    }

    private boolean observed(ReplicaSpec r) {
        return registry.get(r.nodeId()).filter(s -> s.status().isOnline())
                .map(s -> s.replicas().stream().anyMatch(x -> x.uuid().equals(r.uuid()))).orElse(false);
    }

    /** Folds the nexus as its io-engine just answered into the observed state, so reconcilers see the change at once. */
    private io.javastor.api.ioengine.v1.Nexus observed(String nodeId, io.javastor.api.ioengine.v1.Nexus now) {
        poller.nexusChanged(nodeId, now);
        return now;
    }

    private boolean answersNow(String nodeId) {
        try {
            engines.node(nodeId).withDeadline(answerTimeout).nodeInfo();
            return true;
        } catch (CoreException e) {
            log.warn("node does not answer nodeId={} within={}: {}", nodeId, answerTimeout, e.getMessage());
            return false;
        }
    }

    private boolean online(String nodeId) {
        return registry.get(nodeId).map(NodeState::status).map(st -> st.isOnline()).orElse(false);
    }
}
