package io.javastor.core.reconcile;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.nexus.NexusOperations;
import io.javastor.core.nexus.NexusSpec;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeStatus;
import io.javastor.core.replica.ReplicaOperations;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;
import io.javastor.core.volume.VolumeReplicas;
import io.javastor.core.volume.VolumeSpec;

/**
 * Published volumes with a replica on an Offline node get a new replica, rebuilt by their nexus; so do published
 * volumes left short of their replica count (a replacement that found no room is placed once there is).
 */
public final class LostReplicaReplacer implements Reconciler {

    private static final Logger log = LoggerFactory.getLogger(LostReplicaReplacer.class);

    private final SpecStore store;
    private final ReplicaOperations replicas;
    private final OperationGuard volumeGuard;
    private final ReplicaReplacement replacement;
    private final NodeRegistry registry;

    public LostReplicaReplacer(SpecStore store, ReplicaOperations replicas, OperationGuard volumeGuard, VolumeReplicas volumeReplicas,
                               NexusOperations nexuses, NodeRegistry registry, EventHistory events) {
        this.store = store;
        this.replicas = replicas;
        this.volumeGuard = volumeGuard;
        this.replacement = new ReplicaReplacement(store, replicas, volumeReplicas, nexuses, registry, events);
        this.registry = registry;
    }

    @Override
    public String name() {
        return "lost-replica-replacer";
    }

    @Override
    public ReconcileOutcome reconcile() {
        Set<String> affected = new HashSet<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            if (r.spec().operation() == OperationStatus.CREATED
                    && registry.get(r.spec().nodeId()).map(n -> n.status() instanceof NodeStatus.Offline).orElse(false)) {
                affected.add(r.spec().volumeId());
            }
        }
        Map<String, Integer> live = new HashMap<>();
        for (Versioned<ReplicaSpec> r : replicas.all()) {
            if (r.spec().operation() != OperationStatus.DELETING) {
                live.merge(r.spec().volumeId(), 1, Integer::sum);
            }
        }
        Set<String> published = new HashSet<>();
        store.list(NexusSpec.KIND).stream().filter(n -> n.spec().operation() == OperationStatus.CREATED && n.spec().ofVolume())
                .forEach(n -> published.add(n.spec().uuid()));
        for (Versioned<VolumeSpec> v : store.list(VolumeSpec.KIND)) {
            if (published.contains(v.spec().uuid()) && v.spec().operation() == OperationStatus.CREATED
                    && live.getOrDefault(v.spec().uuid(), 0) < v.spec().replicaCount()) {
                affected.add(v.spec().uuid());
            }
        }
        boolean busy = false;
        for (String uuid : affected) {
            OperationGuard.Held held = volumeGuard.tryAcquire(uuid);
            if (held == null) {
                busy = true;
                continue;
            }
            try (held) {
                var volume = store.get(VolumeSpec.KIND, uuid);
                if (volume.isPresent() && volume.get().spec().operation() == OperationStatus.CREATED) {
                    int replaced = replacement.replaceLost(volume.get().spec());
                    if (replaced > 0) {
                        log.info("lost replicas replaced volumeId={} count={}", uuid, replaced);
                    }
                }
            } catch (CoreException.ResourceExhausted e) {
                // No room now: the volume stays short and is looked at again on the next pass (not a busy loop).
                log.info("no room to replace lost replicas yet volumeId={}: {}", uuid, e.getMessage());
            } catch (CoreException e) {
                busy = true;
                log.warn("replacing lost replicas failed volumeId={}: {}", uuid, e.getMessage());
            }
        }
        return ReconcileOutcome.busyIf(busy, "volumes with lost replicas remain");
    }
}
