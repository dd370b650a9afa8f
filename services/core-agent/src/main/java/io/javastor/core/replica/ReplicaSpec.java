package io.javastor.core.replica;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecKind;

/** A replica the cluster wants: written before it is created on the node, removed after it is destroyed there. */
public record ReplicaSpec(String uuid, String poolId, String nodeId, long size, boolean thin, String volumeId,
                          OperationStatus operation) implements Spec {

    public static final SpecKind<ReplicaSpec> KIND = new SpecKind<>("replica", ReplicaSpec.class);

    @Override
    public String id() {
        return uuid;
    }

    public ReplicaSpec with(OperationStatus op) {
        return new ReplicaSpec(uuid, poolId, nodeId, size, thin, volumeId, op);
    }

    public ReplicaSpec withSize(long newSize) {
        return new ReplicaSpec(uuid, poolId, nodeId, newSize, thin, volumeId, operation);
    }
}
