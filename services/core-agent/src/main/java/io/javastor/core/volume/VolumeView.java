package io.javastor.core.volume;

import java.util.List;

import io.javastor.core.replica.ReplicaSpec;

/** A volume's spec with what is observed of its replicas. */
public record VolumeView(VolumeSpec spec, VolumeStatus status, List<ReplicaView> replicas) {

    /** @param present the replica's node is Online and reported it in its last poll */
    public record ReplicaView(ReplicaSpec spec, boolean present, String uri) {}
}
