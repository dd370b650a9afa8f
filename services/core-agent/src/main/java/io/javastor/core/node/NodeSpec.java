package io.javastor.core.node;

import java.util.List;
import java.util.Map;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A node as registered, with what users set on it: labels and cordons. Endpoints are kept so a
 * restarted agent can reach the node before its next heartbeat.
 */
public record NodeSpec(String id, String grpcEndpoint, String nodeNqn, String nvmfEndpoint, String version,
                       Map<String, String> labels, List<String> cordonLabels, OperationStatus operation) implements Spec {

    public static final SpecKind<NodeSpec> KIND = new SpecKind<>("node", NodeSpec.class);

    public NodeSpec {
        labels = Map.copyOf(labels);
        cordonLabels = List.copyOf(cordonLabels);
    }

    public boolean cordoned() {
        return !cordonLabels.isEmpty();
    }
}
