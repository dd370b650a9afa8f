package io.javastor.core.nexus;

import java.util.List;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A volume's target: the nexus on {@code nodeId} (its uuid is the volume's), its children as
 * replica uuids with the URIs the nexus uses for them, and the NVMe-oF URI it is published at.
 */
public record NexusSpec(String uuid, String nodeId, List<Child> children, List<String> allowedHosts, String uri,
                        OperationStatus operation) implements Spec {

    public static final SpecKind<NexusSpec> KIND = new SpecKind<>("nexus", NexusSpec.class);

    /** @param shared the replica was exported over NVMe-oF for this nexus (it lives on another node) */
    public record Child(String replicaUuid, String replicaNodeId, String uri, boolean shared) {}

    public NexusSpec {
        children = List.copyOf(children);
        allowedHosts = List.copyOf(allowedHosts);
        uri = uri == null ? "" : uri;
    }

    @Override
    public String id() {
        return uuid;
    }

    public NexusSpec with(OperationStatus op, String newUri) {
        return new NexusSpec(uuid, nodeId, children, allowedHosts, newUri, op);
    }
}
