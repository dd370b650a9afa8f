package io.javastor.core.node;

import java.util.List;
import java.util.Map;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A node as registered, with what users set on it: labels, cordons and drains. Endpoints are kept so a
 * restarted agent can reach the node before its next heartbeat. A drain label cordons the node too
 * (Mayastor's semantics); specs stored before drains existed read with none.
 */
public record NodeSpec(String id, String grpcEndpoint, String nodeNqn, String nvmfEndpoint, String version,
                       Map<String, String> labels, List<String> cordonLabels, OperationStatus operation,
                       List<String> drainLabels) implements Spec {

    public static final SpecKind<NodeSpec> KIND = new SpecKind<>("node", NodeSpec.class);

    public NodeSpec {
        labels = Map.copyOf(labels);
        cordonLabels = List.copyOf(cordonLabels);
        drainLabels = drainLabels == null ? List.of() : List.copyOf(drainLabels);
    }

    public boolean cordoned() {
        return !cordonLabels.isEmpty() || !drainLabels.isEmpty();
    }

    public boolean draining() {
        return !drainLabels.isEmpty();
    }

    public NodeSpec withLabels(Map<String, String> newLabels) {
        return new NodeSpec(id, grpcEndpoint, nodeNqn, nvmfEndpoint, version, newLabels, cordonLabels, operation, drainLabels);
    }

    public NodeSpec withCordons(List<String> cordons, List<String> drains) {
        return new NodeSpec(id, grpcEndpoint, nodeNqn, nvmfEndpoint, version, labels, cordons, operation, drains);
    }
}
