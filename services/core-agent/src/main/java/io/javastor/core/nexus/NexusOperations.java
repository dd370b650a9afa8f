package io.javastor.core.nexus;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javastor.core.CoreException;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.node.IoEngineConnections;
import io.javastor.core.node.NodeRegistry;
import io.javastor.core.node.NodeSpec;
import io.javastor.core.node.NodeState;
import io.javastor.core.replica.ReplicaSpec;
import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/**
 * Creating and removing a volume's target: pick the node, share the remote replicas to it, create
 * the nexus over the replicas, publish it over NVMe-oF. Spec first (Creating), Created with the URI
 * last; every step repeatable. Callers hold the volume's guard.
 */
public final class NexusOperations {

    private static final Logger log = LoggerFactory.getLogger(NexusOperations.class);

    private final SpecStore store;
    private final NodeRegistry registry;
    private final IoEngineConnections engines;
    private final EventHistory events;

    public NexusOperations(SpecStore store, NodeRegistry registry, IoEngineConnections engines, EventHistory events) {
        this.store = store;
        this.registry = registry;
        this.engines = engines;
        this.events = events;
    }

    public Optional<Versioned<NexusSpec>> of(String volumeUuid) {
        return store.get(NexusSpec.KIND, volumeUuid);
    }

    /**
     * Publishes the volume on {@code preferredNode}, or on an eligible node holding one of its
     * replicas (fewest targets first), or on any eligible node.
     */
    public NexusSpec publish(String volumeUuid, long size, List<Versioned<ReplicaSpec>> replicas, String preferredNode,
                             List<String> allowedHosts) {
        Map<String, NodeSpec> nodes = new HashMap<>();
        store.list(NodeSpec.KIND).forEach(n -> nodes.put(n.spec().id(), n.spec()));
        String nodeId = chooseNode(volumeUuid, replicas, preferredNode, nodes);
        List<ReplicaSpec> usable = replicas.stream().map(Versioned::spec)
                .filter(r -> r.operation() == OperationStatus.CREATED && online(r.nodeId())).toList();
        if (usable.isEmpty()) {
            throw new CoreException.FailedPrecondition("volume " + volumeUuid + ": no replica is on an Online node");
        }
        String nexusHostNqn = nodes.get(nodeId).nodeNqn();
        List<NexusSpec.Child> children = new ArrayList<>();
        Versioned<NexusSpec> creating = store.create(NexusSpec.KIND, new NexusSpec(volumeUuid, nodeId, List.of(), allowedHosts, "",
                OperationStatus.CREATING));
        try {
            for (ReplicaSpec r : usable) {
                if (r.nodeId().equals(nodeId)) {
                    children.add(new NexusSpec.Child(r.uuid(), r.nodeId(), "bdev:///" + r.uuid(), false));
                } else {
                    String uri = engines.node(r.nodeId()).shareReplica(r.uuid(), List.of(nexusHostNqn));
                    children.add(new NexusSpec.Child(r.uuid(), r.nodeId(), uri, true));
                }
            }
            // Record the shares before the nexus exists, so an undo knows what to unshare.
            creating = store.update(NexusSpec.KIND, creating, new NexusSpec(volumeUuid, nodeId, children, allowedHosts, "",
                    OperationStatus.CREATING));
            var engine = engines.node(nodeId);
            engine.createNexus(volumeUuid, size, children.stream().map(NexusSpec.Child::uri).toList());
            String uri = engine.publishNexus(volumeUuid, allowedHosts).getDeviceUri();
            Versioned<NexusSpec> created = store.update(NexusSpec.KIND, creating, creating.spec().with(OperationStatus.CREATED, uri));
            events.record("volume", volumeUuid, "VolumePublished", Severity.INFO, "published on node " + nodeId + " at " + uri
                    + " with " + children.size() + " child(ren)");
            log.info("volume published volumeId={} nodeId={} uri={}", volumeUuid, nodeId, uri);
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
        engines.node(s.nodeId()).destroyNexus(s.uuid());
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
        events.record("volume", s.uuid(), "VolumeUnpublished", Severity.INFO, "nexus on node " + s.nodeId() + " removed");
        return true;
    }

    /** Makes a new replica a child of the volume's target; the io-engine rebuilds it from the others. */
    public Versioned<NexusSpec> addChild(Versioned<NexusSpec> current, ReplicaSpec replica) {
        NexusSpec n = current.spec();
        if (n.children().stream().anyMatch(c -> c.replicaUuid().equals(replica.uuid()))) {
            return current;
        }
        NexusSpec.Child child;
        if (replica.nodeId().equals(n.nodeId())) {
            child = new NexusSpec.Child(replica.uuid(), replica.nodeId(), "bdev:///" + replica.uuid(), false);
        } else {
            String nqn = store.get(NodeSpec.KIND, n.nodeId()).map(v -> v.spec().nodeNqn())
                    .orElseThrow(() -> new CoreException.NotFound("node " + n.nodeId() + ": not found"));
            child = new NexusSpec.Child(replica.uuid(), replica.nodeId(), engines.node(replica.nodeId()).shareReplica(replica.uuid(), List.of(nqn)), true);
        }
        List<NexusSpec.Child> children = new ArrayList<>(n.children());
        children.add(child);
        // Spec first: if the add is cut short, the child is known and removing it is repeatable.
        Versioned<NexusSpec> next = store.update(NexusSpec.KIND, current,
                new NexusSpec(n.uuid(), n.nodeId(), children, n.allowedHosts(), n.uri(), n.operation()));
        engines.node(n.nodeId()).addChildNexus(n.uuid(), child.uri());
        events.record("volume", n.uuid(), "RebuildStarted", Severity.INFO, "replica " + replica.uuid() + " on node "
                + replica.nodeId() + " added to the nexus; rebuilding from the healthy children");
        return next;
    }

    /** Takes a replica out of the volume's target (before it is destroyed). */
    public Versioned<NexusSpec> removeChild(Versioned<NexusSpec> current, String replicaUuid) {
        NexusSpec n = current.spec();
        Optional<NexusSpec.Child> child = n.children().stream().filter(c -> c.replicaUuid().equals(replicaUuid)).findFirst();
        if (child.isEmpty()) {
            return current;
        }
        if (online(n.nodeId())) {
            engines.node(n.nodeId()).removeChildNexus(n.uuid(), child.get().uri());
        }
        if (child.get().shared() && online(child.get().replicaNodeId())) {
            engines.node(child.get().replicaNodeId()).unshareReplica(replicaUuid);
        }
        List<NexusSpec.Child> children = n.children().stream().filter(c -> !c.replicaUuid().equals(replicaUuid)).toList();
        return store.update(NexusSpec.KIND, current, new NexusSpec(n.uuid(), n.nodeId(), children, n.allowedHosts(), n.uri(), n.operation()));
    }

    /** The rebuilds of the volume's target: where it runs and the io-engine's records, oldest first. */
    public record RebuildHistory(String nodeId, List<io.javastor.api.ioengine.v1.RebuildStats> records) {}

    /** Asks the target's node; a volume without a (Created) target has no history (it lives with the nexus). */
    public RebuildHistory rebuildHistory(String volumeUuid) {
        Optional<NexusSpec> target = of(volumeUuid).map(Versioned::spec).filter(n -> n.operation() == OperationStatus.CREATED);
        if (target.isEmpty()) {
            return new RebuildHistory("", List.of());
        }
        String nodeId = target.get().nodeId();
        if (!online(nodeId)) {
            throw new CoreException.Unavailable("node " + nodeId + ": not Online; the rebuild history of volume " + volumeUuid
                    + " is kept by its target there");
        }
        return new RebuildHistory(nodeId, engines.node(nodeId).rebuildHistory(volumeUuid).getRecordsList());
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

    private boolean online(String nodeId) {
        return registry.get(nodeId).map(NodeState::status).map(st -> st.isOnline()).orElse(false);
    }
}
