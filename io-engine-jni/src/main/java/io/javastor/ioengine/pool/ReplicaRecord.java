package io.javastor.ioengine.pool;

import java.util.UUID;

/**
 * One slot of the pool's replica table: a writable replica or a read-only snapshot.
 *
 * @param parent   the slot of the snapshot this one reads through to for clusters it does not own (-1: none). Set on a
 *                 replica once it has been snapshotted, on a clone (it starts empty over its snapshot), and on a
 *                 snapshot taken of a replica that already had one (a chain, newest last).
 * @param snapshot what makes the slot a snapshot, or null for a writable replica
 */
public record ReplicaRecord(UUID uuid, String name, long size, boolean thin, int parent, SnapshotInfo snapshot) {
    public ReplicaRecord(UUID uuid, String name, long size, boolean thin) {
        this(uuid, name, size, thin, -1, null);
    }

    /**
     * A snapshot's identity beyond its uuid.
     *
     * @param source     the replica it was taken of (kept when that replica is destroyed)
     * @param txnId      the control plane's transaction id: replica snapshots of one volume snapshot share it
     * @param createdMs  when it was taken (epoch milliseconds)
     * @param discarded  deleted while other replicas still read through it: hidden, freed when the last one goes
     */
    public record SnapshotInfo(UUID source, long txnId, long createdMs, boolean discarded) {
        SnapshotInfo discard() {
            return new SnapshotInfo(source, txnId, createdMs, true);
        }
    }

    public boolean isSnapshot() {
        return snapshot != null;
    }

    public ReplicaRecord withSize(long newSize) {
        return new ReplicaRecord(uuid, name, newSize, thin, parent, snapshot);
    }

    public ReplicaRecord withParent(int newParent) {
        return new ReplicaRecord(uuid, name, size, thin, newParent, snapshot);
    }

    /** After a snapshot took its clusters a replica allocates on write, like a thin one (as SPDK's blobstore does). */
    ReplicaRecord snapshotted(int snapshotSlot) {
        return new ReplicaRecord(uuid, name, size, true, snapshotSlot, snapshot);
    }

    ReplicaRecord discarded() {
        return new ReplicaRecord(uuid, name, size, thin, parent, snapshot.discard());
    }
}
