package io.javastor.core.reconcile;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NexusState;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * A running target that lacks a child its spec lists (left out when the target was re-created after a crash, or
 * an add cut short) gets it back once the replica is reachable; the target rebuilds it from the in-sync children.
 * The running children are the observed inventory's (no node calls of its own to find out).
 */
public final class MissingNexusChildAdder implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(MissingNexusChildAdder.class);

    private final SpecStore store;
    private final NexusOperations nexuses;
    private final OperationGuard volumeGuard;
    private final NodeRegistry registry;

    public MissingNexusChildAdder(SpecStore store, NexusOperations nexuses, OperationGuard volumeGuard, NodeRegistry registry) {
        this.store = store;
        this.nexuses = nexuses;
        this.volumeGuard = volumeGuard;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "missing-nexus-child-adder";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Map<String, List<Versioned<NexusSpec>>> byNode = nexuses.volumeTargetsByNode();
        boolean busy = false;
        for (var entry : byNode.entrySet()) {
            if (!registry.get(entry.getKey()).map(s -> s.status().isOnline()).orElse(false)) {
                continue;
            }
            Map<String, Set<String>> running = childrenOn(entry.getKey());
            for (Versioned<NexusSpec> n : entry.getValue()) {
                Set<String> live = running.get(n.spec().uuid());
                if (live != null && missingReachable(n.spec(), live).findAny().isPresent()) {
                    busy |= !addMissing(n.spec().uuid(), entry.getKey());
                }
            }
        }
        return ReconcileOutcome.busyIf(busy, "targets missing children remain");
    }

    /** Nexus uuid -> the replica uuids among its children's URIs (every child URI ends with the replica uuid). */
    private Map<String, Set<String>> childrenOn(String nodeId) {
        Map<String, Set<String>> out = new HashMap<>();
        for (NexusState x : registry.get(nodeId).map(s -> s.nexuses()).orElse(List.of())) {
            out.put(x.uuid(), x.children().stream().map(NexusState.Child::uri).collect(Collectors.toSet()));
        }
        return out;
    }

    private java.util.stream.Stream<ReplicaSpec> missingReachable(NexusSpec n, Set<String> liveUris) {
        return n.children().stream()
                .filter(c -> liveUris.stream().noneMatch(u -> u.endsWith(c.replicaUuid())))
                .map(c -> store.get(ReplicaSpec.KIND, c.replicaUuid()).map(Versioned::spec))
                .flatMap(Optional::stream)
                .filter(nexuses::reachable);
    }

    private boolean addMissing(String uuid, String nodeId) {
        OperationGuard.Held held = volumeGuard.tryAcquire(uuid);
        if (held == null) {
            return false;
        }
        try (held) {
            Optional<Versioned<NexusSpec>> current = store.get(NexusSpec.KIND, uuid);
            if (current.isEmpty() || current.get().spec().operation() != OperationStatus.CREATED || !current.get().spec().nodeId().equals(nodeId)) {
                return true;
            }
            Set<String> live = childrenOn(nodeId).get(uuid);
            if (live == null) {
                return true; // the target itself is gone: MissingNexusRecreator's case
            }
            Versioned<NexusSpec> t = current.get();
            for (ReplicaSpec r : missingReachable(t.spec(), live).toList()) {
                t = nexuses.rejoin(t, r);
            }
            return true;
        } catch (CoreException e) {
            log.warn("adding missing children failed volumeId={} nodeId={}: {}", uuid, nodeId, e.getMessage());
            return false;
        }
    }
}
