package io.javastor.core.nexus;

import java.util.List;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/**
 * A nexus the cluster keeps on {@code nodeId}: a volume's target (its uuid and {@code volumeId} are the volume's),
 * or one made outside volumes through the nexus API ({@code volumeId} empty, {@code size} given). Its children
 * carry the URIs the nexus uses for them, and {@code uri} the NVMe-oF address it is shared at.
 *
 * @param volumeId the owner volume; empty for a nexus outside volumes. Specs written before nexuses could exist
 *                 outside volumes have none stored: they are volume targets, so it defaults to the uuid
 * @param size     bytes, for a nexus outside volumes (a target's size is its volume's); 0 for targets
 */
public record NexusSpec(String uuid, String nodeId, List<Child> children, List<String> allowedHosts, String uri,
                        OperationStatus operation, String volumeId, long size) implements Spec {

    public static final SpecKind<NexusSpec> KIND = new SpecKind<>("nexus", NexusSpec.class);

    /**
     * @param replicaUuid the replica behind it (empty for a child of a nexus outside volumes: any URI the user gave)
     * @param shared      the replica was exported over NVMe-oF for this nexus (it lives on another node)
     */
    public record Child(String replicaUuid, String replicaNodeId, String uri, boolean shared) {}

    public NexusSpec {
        children = List.copyOf(children);
        allowedHosts = List.copyOf(allowedHosts);
        uri = uri == null ? "" : uri;
        volumeId = volumeId == null ? uuid : volumeId;
    }

    /** A volume's target. */
    public NexusSpec(String uuid, String nodeId, List<Child> children, List<String> allowedHosts, String uri, OperationStatus operation) {
        this(uuid, nodeId, children, allowedHosts, uri, operation, uuid, 0);
    }

    /** A nexus outside volumes over the given child URIs. */
    public static NexusSpec standalone(String uuid, String nodeId, long size, List<String> childUris, OperationStatus operation) {
        return new NexusSpec(uuid, nodeId, childUris.stream().map(u -> new Child("", "", u, false)).toList(), List.of(), "", operation, "",
                size);
    }

    @Override
    public String id() {
        return uuid;
    }

    /** Whether it is a volume's target (changed only through the volume). */
    public boolean ofVolume() {
        return !volumeId.isEmpty();
    }

    public List<String> childUris() {
        return children.stream().map(Child::uri).toList();
    }

    public NexusSpec with(OperationStatus op, String newUri) {
        return new NexusSpec(uuid, nodeId, children, allowedHosts, newUri, op, volumeId, size);
    }

    public NexusSpec withChildren(List<Child> newChildren) {
        return new NexusSpec(uuid, nodeId, newChildren, allowedHosts, uri, operation, volumeId, size);
    }

    public NexusSpec withShare(List<String> hosts, String newUri) {
        return new NexusSpec(uuid, nodeId, children, hosts, newUri, operation, volumeId, size);
    }
}
