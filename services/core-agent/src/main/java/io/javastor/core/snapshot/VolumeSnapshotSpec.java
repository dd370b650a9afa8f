package io.javastor.core.snapshot;

import java.util.List;

import io.javastor.core.store.OperationStatus;
import io.javastor.core.store.Spec;
import io.javastor.core.store.SpecField;
import io.javastor.core.store.SpecKind;

/**
 * A volume snapshot the cluster keeps: written Creating before any replica is snapshotted, Created with the replica
 * snapshots it holds once they all exist, Deleting while they are destroyed.
 *
 * @param txnId    the replica snapshots of this attempt share it (one more than the volume's last snapshot's)
 * @param size     the volume's size when it was taken
 * @param replicas one per replica that held every acknowledged write at that point
 * @param skipped  the volume's replicas that were not snapshotted, each with why
 */
public record VolumeSnapshotSpec(String id, String volumeId, long txnId, long size, long createdMs,
                                 List<ReplicaSnapshotRef> replicas, List<String> skipped, OperationStatus operation) implements Spec {

    public static final SpecKind<VolumeSnapshotSpec> KIND = new SpecKind<>("snapshot", VolumeSnapshotSpec.class);
    /** The volume a snapshot is of; reads of a volume count its snapshots by it. */
    public static final SpecField<VolumeSnapshotSpec> VOLUME = new SpecField<>(KIND, "volume", VolumeSnapshotSpec::volumeId);

    /** A replica snapshot in a pool: its uuid there, the replica it was taken of, where it is. */
    public record ReplicaSnapshotRef(String snapshotUuid, String replicaUuid, String nodeId, String poolId) {}

    public VolumeSnapshotSpec {
        replicas = List.copyOf(replicas);
        skipped = List.copyOf(skipped);
    }

    @Override
    public String id() {
        return id;
    }

    public VolumeSnapshotSpec with(OperationStatus op) {
        return new VolumeSnapshotSpec(id, volumeId, txnId, size, createdMs, replicas, skipped, op);
    }

    public VolumeSnapshotSpec taken(List<ReplicaSnapshotRef> taken, List<String> notTaken) {
        return new VolumeSnapshotSpec(id, volumeId, txnId, size, createdMs, taken, notTaken, OperationStatus.CREATED);
    }
}
