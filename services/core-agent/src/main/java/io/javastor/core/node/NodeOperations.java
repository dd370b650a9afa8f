package io.javastor.core.node;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.javastor.core.operation.CoreException;
import io.javastor.core.operation.OperationGuard;
import io.javastor.core.events.EventHistory;
import io.javastor.core.events.Severity;
import io.javastor.core.store.SpecStore;
import io.javastor.core.store.Versioned;

/** What users change on a node: cordons and drains (no new replicas or targets there) and labels (topology). */
public final class NodeOperations {

    private final SpecStore store;
    private final OperationGuard guard;
    private final EventHistory events;
    private final NexusesOnNodes nexuses;

    /** Whether a node holds a nexus: a draining node is Drained once it holds none. The nexus package answers (it depends on this one). */
    public interface NexusesOnNodes {
        /** Whether any nexus spec (a volume's target or one outside volumes, in any state) names this node. */
        boolean anyOn(String nodeId);
    }

    public NodeOperations(SpecStore store, OperationGuard nodeGuard, EventHistory events, NexusesOnNodes nexuses) {
        this.store = store;
        this.guard = nodeGuard;
        this.events = events;
        this.nexuses = nexuses;
    }

    public NodeSpec get(String nodeId) {
        return read(nodeId).spec();
    }

    public List<NodeSpec> list() {
        return store.list(NodeSpec.KIND).stream().map(Versioned::spec).toList();
    }

    public NodeSpec cordon(String nodeId, String label) {
        requireLabel(label);
        try (var held = guard.acquire(nodeId, Duration.ofSeconds(10))) {
            Versioned<NodeSpec> current = read(nodeId);
            NodeSpec s = current.spec();
            if (s.cordonLabels().contains(label)) {
                return s;
            }
            if (s.drainLabels().contains(label)) {
                throw new CoreException.AlreadyExists("node " + nodeId + ": label " + label + " is already a drain label");
            }
            List<String> cordons = new ArrayList<>(s.cordonLabels());
            cordons.add(label);
            NodeSpec next = s.withCordons(cordons, s.drainLabels());
            store.update(NodeSpec.KIND, current, next);
            events.record("node", nodeId, "NodeCordoned", Severity.INFO, "cordoned with label " + label);
            return next;
        }
    }

    /**
     * Cordons the node with a drain label: no new replicas or targets come here, and the reconciler
     * DrainTargetMover moves its volume targets to other nodes (hosts follow through their path agent). The node
     * reports Draining until it holds none, then Drained (see {@link #drainState}).
     */
    public NodeSpec drain(String nodeId, String label) {
        requireLabel(label);
        try (var held = guard.acquire(nodeId, Duration.ofSeconds(10))) {
            Versioned<NodeSpec> current = read(nodeId);
            NodeSpec s = current.spec();
            if (s.drainLabels().contains(label)) {
                return s;
            }
            if (s.cordonLabels().contains(label)) {
                throw new CoreException.AlreadyExists("node " + nodeId + ": label " + label + " is already a cordon label");
            }
            List<String> drains = new ArrayList<>(s.drainLabels());
            drains.add(label);
            NodeSpec next = s.withCordons(s.cordonLabels(), drains);
            store.update(NodeSpec.KIND, current, next);
            events.record("node", nodeId, "NodeDraining", Severity.INFO, "drain requested with label " + label
                    + "; no new replicas or targets are placed here");
            return next;
        }
    }

    /** Removes a cordon or drain label; the node takes new replicas again once none is left. */
    public NodeSpec uncordon(String nodeId, String label) {
        requireLabel(label);
        try (var held = guard.acquire(nodeId, Duration.ofSeconds(10))) {
            Versioned<NodeSpec> current = read(nodeId);
            NodeSpec s = current.spec();
            if (!s.cordonLabels().contains(label) && !s.drainLabels().contains(label)) {
                return s;
            }
            List<String> cordons = new ArrayList<>(s.cordonLabels());
            cordons.remove(label);
            List<String> drains = new ArrayList<>(s.drainLabels());
            drains.remove(label);
            NodeSpec next = s.withCordons(cordons, drains);
            store.update(NodeSpec.KIND, current, next);
            events.record("node", nodeId, "NodeUncordoned", Severity.INFO, "cordon label " + label + " removed");
            return next;
        }
    }

    /** None without drain labels; else Draining while the node holds a nexus, Drained when it holds none. */
    public DrainState drainState(NodeSpec node) {
        if (!node.draining()) {
            return DrainState.NONE;
        }
        boolean holdsTarget = nexuses.anyOn(node.id());
        return holdsTarget ? DrainState.DRAINING : DrainState.DRAINED;
    }

    public enum DrainState { NONE, DRAINING, DRAINED }

    /** Sets labels; an empty value removes the key. */
    public NodeSpec setLabels(String nodeId, Map<String, String> changes) {
        for (String k : changes.keySet()) {
            if (k.isBlank() || k.length() > 253) {
                throw new CoreException.InvalidArgument("labels", "keys must be 1-253 characters");
            }
        }
        try (var held = guard.acquire(nodeId, Duration.ofSeconds(10))) {
            Versioned<NodeSpec> current = read(nodeId);
            NodeSpec s = current.spec();
            Map<String, String> labels = new HashMap<>(s.labels());
            changes.forEach((k, v) -> {
                if (v.isEmpty()) {
                    labels.remove(k);
                } else {
                    labels.put(k, v);
                }
            });
            NodeSpec next = s.withLabels(labels);
            if (!next.equals(s)) {
                store.update(NodeSpec.KIND, current, next);
            }
            return next;
        }
    }

    private Versioned<NodeSpec> read(String nodeId) {
        return store.get(NodeSpec.KIND, nodeId).orElseThrow(() -> new CoreException.NotFound("node " + nodeId + ": not found"));
    }

    private static void requireLabel(String label) {
        if (label == null || label.isBlank()) {
            throw new CoreException.InvalidArgument("label", "must not be empty");
        }
    }
}
