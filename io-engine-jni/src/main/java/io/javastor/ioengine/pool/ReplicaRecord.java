package io.javastor.ioengine.pool;

import java.util.UUID;

/** A replica as the pool's metadata stores it (one slot of the replica table). */
public record ReplicaRecord(UUID uuid, String name, long size, boolean thin) {
    public ReplicaRecord withSize(long newSize) {
        return new ReplicaRecord(uuid, name, newSize, thin);
    }
}
