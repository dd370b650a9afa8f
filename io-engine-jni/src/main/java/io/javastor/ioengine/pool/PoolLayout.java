package io.javastor.ioengine.pool;

/**
 * Where things are on a pool's device.
 *
 * <pre>
 * offset 0               metadata copy A  (header page, replica table, cluster map)
 * offset metaCopySize    metadata copy B  (same layout; every commit writes A, flushes, writes B, flushes)
 * offset dataOffset      cluster 0 .. clusterCount-1, each clusterSize bytes (dataOffset is cluster aligned)
 * </pre>
 */
public record PoolLayout(int blockSize, long clusterSize, long clusterCount, int replicaCapacity, long metaCopySize, long dataOffset) {
    public static final int HEADER_SIZE = 4096;
    public static final int REPLICA_ENTRY_SIZE = 128;
    public static final int DEFAULT_REPLICA_CAPACITY = 1024;
    public static final long DEFAULT_CLUSTER_SIZE = 4L << 20;
    public static final long MIN_CLUSTER_SIZE = 1L << 20;
    public static final long MAX_CLUSTER_SIZE = 1L << 30;

    /** Plans a new pool on a device of {@code deviceSize} bytes. */
    public static PoolLayout plan(long deviceSize, int blockSize, long clusterSize, int replicaCapacity) {
        if (Long.bitCount(clusterSize) != 1 || clusterSize < MIN_CLUSTER_SIZE || clusterSize > MAX_CLUSTER_SIZE) {
            throw new IllegalArgumentException("cluster_size must be a power of two between 1 MiB and 1 GiB, got " + clusterSize);
        }
        // The map is sized for every cluster the whole device could hold: an upper bound once metadata takes its share.
        long maxClusters = deviceSize / clusterSize;
        long copy = metaCopySize(maxClusters, replicaCapacity);
        long dataOffset = alignUp(2 * copy, clusterSize);
        long clusters = deviceSize > dataOffset ? (deviceSize - dataOffset) / clusterSize : 0;
        if (clusters < 1) {
            throw new IllegalArgumentException("device of " + deviceSize + " bytes is too small for a pool with "
                    + (clusterSize >> 20) + " MiB clusters (needs at least " + (dataOffset + clusterSize) + " bytes)");
        }
        return new PoolLayout(blockSize, clusterSize, clusters, replicaCapacity, copy, dataOffset);
    }

    static long metaCopySize(long clusters, int replicaCapacity) {
        return alignUp(HEADER_SIZE + (long) replicaCapacity * REPLICA_ENTRY_SIZE + clusters * 8, 4096);
    }

    public long copyOffset(int copy) {
        return copy * metaCopySize;
    }

    public long clusterOffset(long physicalCluster) {
        return dataOffset + physicalCluster * clusterSize;
    }

    public long capacityBytes() {
        return clusterCount * clusterSize;
    }

    public long clustersFor(long bytes) {
        return (bytes + clusterSize - 1) / clusterSize;
    }

    static long alignUp(long v, long a) {
        return (v + a - 1) / a * a;
    }
}
