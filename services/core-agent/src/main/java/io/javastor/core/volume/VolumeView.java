package io.javastor.core.volume;

import java.util.List;

import io.javastor.core.replica.ReplicaSpec;

/** A volume's spec with what is observed of its replicas. */
public record VolumeView(VolumeSpec spec, VolumeStatus status, List<ReplicaView> replicas, java.util.Optional<Target> target) {

    /** Where the volume is published: the nexus node and its NVMe-oF URI. */
    public record Target(String nodeId, String uri) {}

    /** @param present the replica's node is Online and reported it in its last poll */
    public record ReplicaView(ReplicaSpec spec, boolean present, String uri) {}
}
