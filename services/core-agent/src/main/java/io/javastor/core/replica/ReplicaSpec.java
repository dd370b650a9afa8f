package io.javastor.core.replica;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecField;
import io.javastor.core.store.SpecKind;

/**
 * A replica the cluster wants: written before it is created on the node, removed after it is destroyed there.
 *
 * @param cloneOf the replica snapshot (on the same pool) it is created as a clone of; empty for an empty replica
 */
public record ReplicaSpec(String uuid, String poolId, String nodeId, long size, boolean thin, String volumeId,
                          OperationStatus operation, String cloneOf) implements Spec {

    public static final SpecKind<ReplicaSpec> KIND = new SpecKind<>("replica", ReplicaSpec.class);
    /** The volume a replica belongs to; reads of a volume look its replicas up by it. */
    public static final SpecField<ReplicaSpec> VOLUME = new SpecField<>(KIND, "volume", ReplicaSpec::volumeId);

    public ReplicaSpec {
        cloneOf = cloneOf == null ? "" : cloneOf;
    }

    public ReplicaSpec(String uuid, String poolId, String nodeId, long size, boolean thin, String volumeId, OperationStatus operation) {
        this(uuid, poolId, nodeId, size, thin, volumeId, operation, "");
    }

    @Override
    public String id() {
        return uuid;
    }

    public ReplicaSpec with(OperationStatus op) {
        return new ReplicaSpec(uuid, poolId, nodeId, size, thin, volumeId, op, cloneOf);
    }

    public ReplicaSpec withSize(long newSize) {
        return new ReplicaSpec(uuid, poolId, nodeId, newSize, thin, volumeId, operation, cloneOf);
    }
}
