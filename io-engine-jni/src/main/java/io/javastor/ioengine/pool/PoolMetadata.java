package io.javastor.ioengine.pool;

import java.util.UUID;

/**
 * The persistent state of a pool: what a metadata copy holds. Mutated only under the pool's
 * allocation lock; {@link PoolMetadataCodec} turns it into bytes and back.
 *
 * @param clusterMap for each physical cluster: 0 when free, else {@code (slot + 1) << 48 | logicalCluster}
 */
public record PoolMetadata(String name, UUID uuid, long deviceSize, PoolLayout layout, long generation,
                           ReplicaRecord[] slots, long[] clusterMap) {
    static final int OWNER_SHIFT = 48;
    static final long LOGICAL_MASK = (1L << OWNER_SHIFT) - 1;

    static long owner(int slot, long logical) {
        return ((long) (slot + 1) << OWNER_SHIFT) | logical;
    }

    static int slotOf(long entry) {
        return (int) (entry >>> OWNER_SHIFT) - 1;
    }

    static long logicalOf(long entry) {
        return entry & LOGICAL_MASK;
    }
}
