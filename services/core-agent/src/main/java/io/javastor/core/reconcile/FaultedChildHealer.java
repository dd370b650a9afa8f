package io.javastor.core.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeReplicas;
import io.javastor.core.volume.VolumeSpec;

/**
 * A child the running target faulted (a transient I/O error, a dropped connection, its io-engine restarted within
 * the node-offline timeout) would leave the volume Degraded for ever: nobody else looks at child health. Per
 * published volume whose target node is Online, each child the observed nexus shows Faulted is
 * <ul>
 * <li>added back on the same replica when that is reachable (the io-engine reopens it and rebuilds it, partially
 * when it can), or</li>
 * <li>replaced when its Online node's pool is there but the replica is not (its data is gone): the child leaves the
 * target and the lost-replica path places and rebuilds a new one.</li>
 * </ul>
 * A replica on an Offline node is the {@link LostReplicaReplacer}'s; one whose pool is not imported yet waits. Each
 * volume+child is tried at most once per back-off (1 s doubling to 60 s, in memory) so a child that keeps failing
 * is not hammered.
 */
public final class FaultedChildHealer implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(FaultedChildHealer.class);
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final SpecStore store;
    private final NexusOperations nexuses;
    private final OperationGuard volumeGuard;
    private final ReplicaReplacement replacement;
    private final NodeRegistry registry;
    private final EventHistory events;
    private final Clock clock;
    /** volume/replica -> when it may be tried next and the back-off after that. */
    private final Map<String, Attempt> attempts = new ConcurrentHashMap<>();

    private record Attempt(Instant notBefore, Duration next) {}

    public FaultedChildHealer(SpecStore store, NexusOperations nexuses, OperationGuard volumeGuard, ReplicaOperations replicas,
                              VolumeReplicas volumeReplicas, NodeRegistry registry, EventHistory events, Clock clock) {
        this.store = store;
        this.nexuses = nexuses;
        this.volumeGuard = volumeGuard;
        this.replacement = new ReplicaReplacement(store, replicas, volumeReplicas, nexuses, registry, events);
        this.registry = registry;
        this.events = events;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "faulted-child-healer";
    }

    @Override
    public ReconcileOutcome reconcile() {
        boolean busy = false;
        Set<String> faultedNow = new HashSet<>();
        for (var entry : nexuses.volumeTargetsByNode().entrySet()) {
            Optional<NodeState> node = registry.get(entry.getKey()).filter(s -> s.status().isOnline());
            if (node.isEmpty()) {
                continue; // a target on a node that is not Online is the failover work's
            }
            for (Versioned<NexusSpec> n : entry.getValue()) {
                Optional<NexusState> running = node.get().nexus(n.spec().uuid());
                if (running.isEmpty()) {
                    continue; // the target itself is gone: MissingNexusRecreator's case
                }
                for (NexusState.Child c : running.get().children()) {
                    if (c.state() != NexusState.Health.FAULTED) {
                        continue;
                    }
                    Optional<NexusSpec.Child> child = specChild(n.spec(), c.uri());
                    if (child.isEmpty()) {
                        continue; // not a child the volume knows: not ours to heal
                    }
                    String key = n.spec().uuid() + "/" + child.get().replicaUuid();
                    faultedNow.add(key);
                    Attempt a = attempts.get(key);
                    if (a != null && clock.instant().isBefore(a.notBefore())) {
                        continue; // backing off; the regular pass comes back
                    }
                    busy |= !heal(n.spec().uuid(), entry.getKey(), child.get().replicaUuid(), c.uri());
                }
            }
        }
        // A child that is no longer Faulted keeps its back-off for one full period: one that fails again during its
        // rebuild is still backed off, while one healthy for long starts from the first back-off again.
        Instant now = clock.instant();
        attempts.entrySet().removeIf(e -> !faultedNow.contains(e.getKey()) && now.isAfter(e.getValue().notBefore().plus(MAX_BACKOFF)));
        return ReconcileOutcome.busyIf(busy, "faulted children wait for the volume's guard");
    }

    /** The spec's child for a running child URI: the same URI, or the same replica (every child URI ends with its uuid). */
    private static Optional<NexusSpec.Child> specChild(NexusSpec n, String uri) {
        return n.children().stream().filter(c -> c.uri().equals(uri)).findFirst()
                .or(() -> n.children().stream().filter(c -> uri.endsWith(c.replicaUuid())).findFirst());
    }

    /** One step for one faulted child; false when the volume's guard was taken (come back soon). */
    private boolean heal(String volumeUuid, String nodeId, String replicaUuid, String faultedUri) {
        OperationGuard.Held held = volumeGuard.tryAcquire(volumeUuid);
        if (held == null) {
            return false;
        }
        try (held) {
            Optional<Versioned<NexusSpec>> current = store.get(NexusSpec.KIND, volumeUuid);
            if (current.isEmpty() || current.get().spec().operation() != OperationStatus.CREATED || !current.get().spec().nodeId().equals(nodeId)
                    || current.get().spec().children().stream().noneMatch(c -> c.replicaUuid().equals(replicaUuid))) {
                return true; // changed since observed; the next pass looks again
            }
            Optional<Versioned<ReplicaSpec>> replica = store.get(ReplicaSpec.KIND, replicaUuid);
            Decision d = decide(replica.map(Versioned::spec));
            switch (d) {
                case RETRY -> {
                    Duration next = backOff(volumeUuid, replicaUuid);
                    String what = "child " + faultedUri + " (replica " + replicaUuid + " on node " + replica.get().spec().nodeId()
                            + ") was faulted by the target on node " + nodeId;
                    try {
                        nexuses.retryFaulted(current.get(), replica.get().spec(), faultedUri);
                    } catch (CoreException e) {
                        // Recorded too: an operator sees a child that keeps failing, and how long until the next try.
                        log.warn("adding faulted child back failed volumeId={} replicaId={} nodeId={} nextTryIn={}: {}", volumeUuid, replicaUuid,
                                nodeId, next, e.getMessage());
                        events.record("volume", volumeUuid, "ChildRetryFailed", Severity.WARNING, what + "; adding it back failed ("
                                + e.getMessage() + "); next try in " + next.toSeconds() + " s");
                        return true;
                    }
                    events.record("volume", volumeUuid, "ChildRetried", Severity.INFO, what
                            + "; its replica is reachable, so it was added back (the target chooses a partial or full rebuild)");
                }
                case REPLACE -> {
                    backOff(volumeUuid, replicaUuid);
                    String why = replica.isEmpty() ? "its replica spec is gone"
                            : "node " + replica.get().spec().nodeId() + " is Online and pool " + replica.get().spec().poolId()
                                    + " is there, but the replica is not";
                    Optional<Versioned<VolumeSpec>> volume = store.get(VolumeSpec.KIND, volumeUuid);
                    if (volume.isEmpty() || volume.get().spec().operation() != OperationStatus.CREATED) {
                        return true;
                    }
                    log.warn("faulted child's replica gone, replacing volumeId={} replicaId={} nodeId={}: {}", volumeUuid, replicaUuid, nodeId, why);
                    int placed = replacement.replaceGone(volume.get().spec(), replicaUuid);
                    events.record("volume", volumeUuid, "ChildReplaced", Severity.WARNING, "child " + faultedUri + " (replica " + replicaUuid
                            + ") was faulted and cannot come back: " + why + "; it left the target and " + placed + " new replica(s) were placed");
                }
                case WAIT -> log.debug("faulted child waits for its replica volumeId={} replicaId={}", volumeUuid, replicaUuid);
            }
            return true;
        } catch (CoreException.ResourceExhausted e) {
            // The child is out; no room for its successor yet: LostReplicaReplacer places it once there is.
            log.info("faulted child removed, no room for a new replica yet volumeId={} replicaId={}: {}", volumeUuid, replicaUuid, e.getMessage());
            return true;
        } catch (CoreException e) {
            log.warn("healing faulted child failed volumeId={} replicaId={} nodeId={}: {}", volumeUuid, replicaUuid, nodeId, e.getMessage());
            return true; // backed off already: the next try is the back-off's, not a busy loop
        }
    }

    private enum Decision { RETRY, REPLACE, WAIT }

    private Decision decide(Optional<ReplicaSpec> replica) {
        if (replica.isEmpty()) {
            return Decision.REPLACE;
        }
        ReplicaSpec r = replica.get();
        if (nexuses.reachable(r)) {
            return Decision.RETRY;
        }
        Optional<NodeState> node = registry.get(r.nodeId()).filter(s -> s.status().isOnline() && s.inventoryKnown());
        // Gone only when the node is up and has imported the pool, yet lacks the replica. Just after an io-engine
        // restart the pool is not imported yet: the replica comes back with it, so wait.
        if (r.operation() == OperationStatus.CREATED && node.isPresent() && node.get().pools().stream().anyMatch(p -> p.id().equals(r.poolId()))) {
            // The observed inventory says so; its node confirms it now before the replica's data is given up on.
            try {
                return nexuses.goneFromItsPoolNow(r) ? Decision.REPLACE : Decision.WAIT;
            } catch (CoreException unreachable) {
                return Decision.WAIT;
            }
        }
        return Decision.WAIT;
    }

    /** Starts the child's next back-off period; returns its length (the earliest next try). */
    private Duration backOff(String volumeUuid, String replicaUuid) {
        Duration[] wait = new Duration[1];
        attempts.compute(volumeUuid + "/" + replicaUuid, (k, prev) -> {
            wait[0] = prev == null ? FIRST_BACKOFF : prev.next();
            Duration after = wait[0].multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait[0].multipliedBy(2);
            return new Attempt(clock.instant().plus(wait[0]), after);
        });
        return wait[0];
    }
}
