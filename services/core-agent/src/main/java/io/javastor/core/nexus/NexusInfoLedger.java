package io.javastor.core.nexus;

import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Keeps each volume's {@link NexusInfo} in etcd. Targets report faults here (and wait for the answer before
 * acknowledging writes), so the updates do not take the volume's operation guard: each is one compare-and-set
 * of a small record, repeated when another update won the race.
 */
public final class NexusInfoLedger {

    private static final Logger log = LoggerFactory.getLogger(NexusInfoLedger.class);
    private static final int ATTEMPTS = 20;

    private final SpecStore store;
    private final EventHistory events;

    public NexusInfoLedger(SpecStore store, EventHistory events) {
        this.store = store;
        this.events = events;
    }

    public NexusInfo of(String volumeUuid) {
        return store.get(NexusInfo.KIND, volumeUuid).map(Versioned::spec).orElse(NexusInfo.fresh(volumeUuid));
    }

    /** These replicas may miss acknowledged writes (faulted, or new and not yet rebuilt). */
    public void outOfSync(String volumeUuid, Collection<String> replicaUuids) {
        if (replicaUuids.isEmpty()) {
            return;
        }
        change(volumeUuid, i -> {
            Set<String> s = new HashSet<>(i.outOfSync());
            s.addAll(replicaUuids);
            return i.withOutOfSync(s);
        });
    }

    /** The replica holds every acknowledged write again (its rebuild completed). */
    public void inSync(String volumeUuid, String replicaUuid) {
        dropOutOfSync(volumeUuid, replicaUuid);
    }

    /**
     * The replica was retired for good (destroyed, never to serve again): what targets said about it no longer
     * matters, and leaving it would keep the volume's record out of sync for ever.
     */
    public void retired(String volumeUuid, String replicaUuid) {
        dropOutOfSync(volumeUuid, replicaUuid);
    }

    private void dropOutOfSync(String volumeUuid, String replicaUuid) {
        change(volumeUuid, i -> {
            Set<String> s = new HashSet<>(i.outOfSync());
            s.remove(replicaUuid);
            return i.withOutOfSync(s);
        });
    }

    /** A target is about to be created: until it is destroyed in order, its children may differ after a crash. */
    public void targetOpening(String volumeUuid) {
        change(volumeUuid, i -> i.withCleanShutdown(false));
    }

    /**
     * The generation of the target about to be created, which is its reservation key on the children: on record
     * before the target exists, so no two targets of the volume ever get the same one, and a newer one always wins.
     */
    public long nextTargetGeneration(String volumeUuid) {
        return change(volumeUuid, i -> new NexusInfo(i.uuid(), i.outOfSync(), i.cleanShutdown(), i.targetGeneration() + 1))
                .targetGeneration();
    }

    /** The target was destroyed in order. */
    public void targetClosed(String volumeUuid) {
        change(volumeUuid, i -> i.withCleanShutdown(true));
    }

    /** The volume is gone; so is what its targets said. */
    public void forget(String volumeUuid) {
        store.get(NexusInfo.KIND, volumeUuid).ifPresent(v -> store.delete(NexusInfo.KIND, v));
    }

    /**
     * Records what a target reported about one of its children. The target acknowledges writes that skipped a faulted
     * child only once this returns, so a report that cannot be recorded is refused (NotFound), never answered OK.
     */
    public void childReport(String nodeId, String nexusUuid, String childUri, boolean faulted, String reason) {
        Optional<Versioned<NexusSpec>> nexus = store.get(NexusSpec.KIND, nexusUuid);
        if (nexus.isEmpty()) {
            log.warn("child report refused: nexus unknown to the cluster nexusId={} nodeId={} child={} faulted={}", nexusUuid, nodeId,
                    childUri, faulted);
            throw new CoreException.NotFound("nexus " + nexusUuid + ": not known to the cluster; cannot record child " + childUri
                    + " reported by node " + nodeId);
        }
        if (!nexus.get().spec().ofVolume()) {
            // A nexus outside volumes has no NexusInfo: no later target chooses among its children, so there is
            // nothing to keep and the report is answered OK (the user owns that nexus and its children).
            log.info("child report for a nexus outside volumes nexusId={} nodeId={} child={} faulted={}", nexusUuid, nodeId, childUri, faulted);
            return;
        }
        if (!nexus.get().spec().nodeId().equals(nodeId)) {
            // An old target of the volume (its node was frozen or cut off while the target moved): its word about the
            // current target's children must not count, and refusing it keeps it from acknowledging a write that missed a
            // child (the nexus holds such writes until the fault is on record): the write fails instead.
            log.warn("child report refused: from an old target volumeId={} nodeId={} targetNode={} child={} faulted={}", nexusUuid, nodeId,
                    nexus.get().spec().nodeId(), childUri, faulted);
            throw new CoreException.FailedPrecondition("nexus " + nexusUuid + ": its target is on node " + nexus.get().spec().nodeId()
                    + "; the report from node " + nodeId + " is an old target's and is not recorded");
        }
        Optional<NexusSpec.Child> child = nexus.get().spec().children().stream().filter(c -> c.uri().equals(childUri)).findFirst();
        if (child.isEmpty()) {
            log.warn("child report refused: child not in the spec volumeId={} nodeId={} child={} specChildren={}", nexusUuid, nodeId,
                    childUri, nexus.get().spec().children());
            throw new CoreException.NotFound("nexus " + nexusUuid + ": child " + childUri + " (reported by node " + nodeId
                    + ") is not in its spec");
        }
        String replica = child.get().replicaUuid();
        if (faulted) {
            outOfSync(nexusUuid, java.util.List.of(replica));
            log.warn("replica out of sync volumeId={} replicaId={} nodeId={}: {}", nexusUuid, replica, nodeId, reason);
            events.record("volume", nexusUuid, "ReplicaFaulted", Severity.WARNING, "replica " + replica + " faulted by the target on node "
                    + nodeId + ": " + reason);
        } else {
            inSync(nexusUuid, replica);
            log.info("replica in sync volumeId={} replicaId={} nodeId={}", nexusUuid, replica, nodeId);
            events.record("volume", nexusUuid, "RebuildCompleted", Severity.INFO, "replica " + replica + " rebuilt by the target on node " + nodeId);
        }
    }

    /** Applies {@code step} with compare-and-set; returns the record as it now is. */
    private NexusInfo change(String volumeUuid, UnaryOperator<NexusInfo> step) {
        for (int attempt = 1; ; attempt++) {
            Optional<Versioned<NexusInfo>> current = store.get(NexusInfo.KIND, volumeUuid);
            try {
                NexusInfo next;
                if (current.isEmpty()) {
                    next = step.apply(NexusInfo.fresh(volumeUuid));
                    if (!next.equals(NexusInfo.fresh(volumeUuid))) {
                        store.create(NexusInfo.KIND, next);
                    }
                } else {
                    next = step.apply(current.get().spec());
                    if (!next.equals(current.get().spec())) {
                        store.update(NexusInfo.KIND, current.get(), next);
                    }
                }
                return next;
            } catch (CoreException.Conflict raced) {
                if (attempt == ATTEMPTS) {
                    throw raced;
                }
            }
        }
    }
}
