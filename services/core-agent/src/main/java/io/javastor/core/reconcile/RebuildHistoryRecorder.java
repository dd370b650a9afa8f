package io.javastor.core.reconcile;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.events.RebuildHistoryStore;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeState;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Versioned;

/**
 * Copies each finished rebuild from the target that ran it into the agent's database, so the history outlives
 * the io-engine and the agent. The target tells when a rebuild ended (its rebuilt report, or its fault report for a
 * rebuild that failed); the record itself is read from the target's history here, off the report's path (the
 * target waits for the answer to a fault report before acknowledging writes). Rebuilds seen running in the
 * inventory are read again once they stop, which also catches those that ended without a report (cancelled) and
 * those reported to a previous leader.
 */
public final class RebuildHistoryRecorder implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(RebuildHistoryRecorder.class);
    /** The target's clock and ours may differ a little; its record of the end may also lag the report by a hair. */
    private static final Duration SKEW = Duration.ofSeconds(30);
    private static final int MAX_ATTEMPTS = 50;

    private final NexusOperations nexuses;
    private final NodeRegistry registry;
    private final IoEngineConnections engines;
    private final RebuildHistoryStore history;
    private final Clock clock;
    /** volume -> rebuilds reported ended and not yet found in the target's history. */
    private final Map<String, List<Reported>> reported = new ConcurrentHashMap<>();
    /** Volumes whose target was seen rebuilding: read once the rebuilds stop. */
    private final Set<String> rebuilding = ConcurrentHashMap.newKeySet();

    private record Reported(String childUri, Instant at, int attempts) {}

    public RebuildHistoryRecorder(NexusOperations nexuses, NodeRegistry registry, IoEngineConnections engines, RebuildHistoryStore history,
                                  Clock clock) {
        this.nexuses = nexuses;
        this.registry = registry;
        this.engines = engines;
        this.history = history;
        this.clock = clock;
    }

    /**
     * The volume's target reported on a child: a rebuild ended if it was rebuilt (completed), or faulted with a reason
     * "rebuild ..." (failed or cancelled).
     */
    public void childReported(String volumeUuid, String childUri, boolean faulted, String reason) {
        if (!faulted || reason.startsWith("rebuild ")) {
            rebuildEnded(volumeUuid, childUri);
        }
    }

    private void rebuildEnded(String volumeUuid, String childUri) {
        List<Reported> one = List.of(new Reported(childUri, clock.instant(), 0));
        reported.merge(volumeUuid, one, (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
    }

    @Override
    public String name() {
        return "rebuild-history-recorder";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Set<String> toRead = new HashSet<>(reported.keySet());
        for (var entry : nexuses.volumeTargetsByNode().entrySet()) {
            Optional<NodeState> node = registry.get(entry.getKey()).filter(s -> s.status().isOnline());
            for (Versioned<NexusSpec> n : entry.getValue()) {
                Optional<NexusState> running = node.flatMap(s -> s.nexus(n.spec().uuid()));
                if (running.isPresent() && running.get().rebuilds() > 0) {
                    rebuilding.add(n.spec().uuid());
                } else if (running.isPresent() && rebuilding.remove(n.spec().uuid())) {
                    toRead.add(n.spec().uuid());
                }
            }
        }
        for (String uuid : toRead) {
            read(uuid);
        }
        return ReconcileOutcome.busyIf(!reported.isEmpty(), "reported rebuilds not yet read from their targets");
    }

    private void read(String volumeUuid) {
        Optional<NexusSpec> target = nexuses.of(volumeUuid).map(Versioned::spec).filter(n -> n.operation() == OperationStatus.CREATED);
        boolean online = target.flatMap(t -> registry.get(t.nodeId())).map(s -> s.status().isOnline()).orElse(false);
        if (online) {
            String nodeId = target.get().nodeId();
            try {
                history.recordFinished(volumeUuid, nodeId, engines.node(nodeId).rebuildHistory(volumeUuid).getRecordsList());
            } catch (CoreException e) {
                log.warn("reading rebuild history failed volumeId={} nodeId={}: {}", volumeUuid, nodeId, e.getMessage());
            }
        }
        List<Reported> waiting = reported.getOrDefault(volumeUuid, List.of());
        List<Reported> still = new ArrayList<>();
        for (Reported r : waiting) {
            if (online && history.endedSince(volumeUuid, r.childUri(), r.at().minus(SKEW))) {
                continue;
            }
            if (r.attempts() + 1 >= MAX_ATTEMPTS) {
                // The target went away (or lost its history) before it was read: nothing left to copy.
                log.warn("rebuild reported ended but never found in the target's history volumeId={} child={} reportedAt={}", volumeUuid,
                        r.childUri(), r.at());
                continue;
            }
            still.add(new Reported(r.childUri(), r.at(), r.attempts() + 1));
        }
        // Reports that arrived while this read ran are kept as they are.
        reported.compute(volumeUuid, (k, now) -> {
            List<Reported> next = new ArrayList<>(still);
            if (now != null) {
                now.stream().filter(r -> waiting.stream().noneMatch(w -> w == r)).forEach(next::add);
            }
            return next.isEmpty() ? null : List.copyOf(next);
        });
    }
}
