package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.EngineException.Kind;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.replica.Replica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A logical volume store on one device: clusters handed out to replicas, with crash-consistent metadata.
 *
 * <p><b>Durability rules.</b> Metadata is committed as: flush the device (so data and cluster zeroing
 * reach the media first), write copy A, flush, write copy B, flush. A crash at any point leaves at
 * least one valid copy holding the last committed generation or the one being committed. A cluster
 * enters the persisted map only after it has been zeroed, so a never-written range never exposes stale
 * data. Freed clusters return to the free set only after the commit that freed them (and their discard).
 *
 * <p><b>Concurrency.</b> Admin operations and commits run one at a time on the pool's own thread (the
 * pool's operation guard). The I/O hot path takes {@code allocLock} only to allocate a cluster.
 */
public final class Pool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pool.class);

    private final String diskUri;
    private final BlockDevice device;
    private final String name;
    private final UUID uuid;
    private final long deviceSize;
    private final PoolLayout layout;
    private final double thinOvercommitRatio;

    private final Object allocLock = new Object();
    // --- guarded by allocLock ---
    private final ReplicaRecord[] slots;
    private final long[] clusterMap;
    private final BitSet freeClusters;
    private long freeCount;
    private int allocCursor;
    // ----------------------------
    private final Map<UUID, Replica> replicas = new ConcurrentHashMap<>();
    /** Snapshots, discarded ones included (hidden from listings; see {@link #destroySnapshot}). */
    private final Map<UUID, Replica> snapshots = new ConcurrentHashMap<>();
    private final AtomicLong mutationVersion = new AtomicLong();
    private volatile long committedVersion;
    private long generation;
    private final ByteBuffer commitBuffer;
    private final ClusterCopier copier;
    /**
     * The last commit's write of copy B, issued after that commit was durable in copy A and made durable by the next
     * commit's leading flush; pool thread only. Its buffer is the next commit's, so that commit waits for it first.
     */
    private CompletableFuture<Void> copyBWrite = CompletableFuture.completedFuture(null);
    private final ExecutorService ops;
    private volatile String statusReason = "";
    /** The metadata generation this life of the pool started at: a crash loses volatile state, and the next import differs. */
    private volatile long importGeneration;
    private volatile boolean faulted;
    private volatile boolean closed;

    private Pool(String diskUri, BlockDevice device, PoolMetadata m, double thinOvercommitRatio) {
        this.diskUri = diskUri;
        this.device = device;
        this.name = m.name();
        this.uuid = m.uuid();
        this.deviceSize = m.deviceSize();
        this.layout = m.layout();
        this.thinOvercommitRatio = thinOvercommitRatio;
        this.slots = m.slots().clone();
        this.clusterMap = m.clusterMap().clone();
        this.generation = m.generation();
        this.freeClusters = new BitSet((int) layout.clusterCount());
        for (int i = 0; i < clusterMap.length; i++) {
            if (clusterMap[i] == 0) {
                freeClusters.set(i);
            }
        }
        this.freeCount = freeClusters.cardinality();
        this.commitBuffer = DmaBuffers.allocate((int) layout.metaCopySize());
        this.copier = new ClusterCopier(device);
        this.ops = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pool-" + m.name());
            t.setDaemon(true);
            return t;
        });
        long[][] own = ownMaps();
        long[][] resolved = new long[slots.length][];
        for (int slot = 0; slot < slots.length; slot++) {
            ReplicaRecord rec = slots[slot];
            if (rec != null) {
                long[] backing = rec.parent() < 0 ? new long[0] : resolved(rec.parent(), own, resolved);
                (rec.isSnapshot() ? snapshots : replicas).put(rec.uuid(), new Replica(this, slot, rec, new Replica.Mapping(own[slot], backing)));
            }
        }
    }

    /** For every slot in use: logical cluster -> physical cluster + 1 of the clusters it owns. One pass over the map. */
    private long[][] ownMaps() {
        long[][] own = new long[slots.length][];
        for (int slot = 0; slot < slots.length; slot++) {
            if (slots[slot] != null) {
                own[slot] = new long[(int) layout.clustersFor(slots[slot].size())];
            }
        }
        for (int i = 0; i < clusterMap.length; i++) {
            if (clusterMap[i] != 0) {
                own[PoolMetadata.slotOf(clusterMap[i])][(int) PoolMetadata.logicalOf(clusterMap[i])] = i + 1;
            }
        }
        return own;
    }

    /** What a snapshot slot reads: its own clusters over its parents' (memoised; parents are acyclic, checked at decode). */
    private long[] resolved(int slot, long[][] own, long[][] memo) {
        if (memo[slot] == null) {
            long[] mine = own[slot].clone();
            int parent = slots[slot].parent();
            if (parent >= 0) {
                long[] below = resolved(parent, own, memo);
                for (int i = 0; i < mine.length && i < below.length; i++) {
                    if (mine[i] == 0) {
                        mine[i] = below[i];
                    }
                }
            }
            memo[slot] = mine;
        }
        return memo[slot];
    }

    // ------------------------------------------------------------------ create / import / destroy

    /** Writes a new, empty pool to {@code device}. The device must not hold a valid pool (callers check). */
    public static Pool create(String diskUri, BlockDevice device, String name, long clusterSize, double thinOvercommitRatio) {
        PoolLayout layout = PoolLayout.plan(device.size(), device.blockSize(), clusterSize, PoolLayout.DEFAULT_REPLICA_CAPACITY);
        PoolMetadata m = new PoolMetadata(name, UUID.randomUUID(), device.size(), layout, 1,
                new ReplicaRecord[layout.replicaCapacity()], new long[(int) layout.clusterCount()]);
        // Wipe both copies first, so no older pool's copy can outrank the new one.
        device.writeZeroes(0, 2 * layout.metaCopySize()).join();
        device.flush().join();
        ByteBuffer buf = DmaBuffers.allocate((int) layout.metaCopySize());
        PoolMetadataCodec.encode(m, buf);
        join(writeCopy(device, layout, 0, buf));
        join(device.flush());
        join(writeCopy(device, layout, 1, buf));
        join(device.flush());
        LOG.info("pool={} uuid={} disk={} created: {} clusters of {} MiB", name, m.uuid(), diskUri,
                layout.clusterCount(), layout.clusterSize() >> 20);
        Pool p = new Pool(diskUri, device, m, thinOvercommitRatio);
        p.importGeneration = m.generation();
        return p;
    }

    /** What a device holds: nothing of ours, a readable pool, or a pool we cannot trust. */
    public sealed interface Probe {
        record Empty() implements Probe {
        }

        record Found(PoolMetadata metadata, List<String> warnings) implements Probe {
        }

        record Corrupt(String reason) implements Probe {
        }
    }

    /** Reads both metadata copies and picks the newest valid one. */
    public static Probe probe(BlockDevice device) {
        long devSize = device.size();
        List<String> failures = new ArrayList<>();
        ByteBuffer header = DmaBuffers.allocate(PoolLayout.HEADER_SIZE);
        if (devSize < PoolLayout.HEADER_SIZE) {
            return new Probe.Empty();
        }
        boolean magicA = readHeader(device, 0, header);
        long copySize = -1;
        PoolMetadata a = null;
        if (magicA) {
            try {
                copySize = PoolMetadataCodec.decodeHeader(header, devSize).layout().metaCopySize();
                a = readCopy(device, 0, copySize, devSize);
            } catch (MetadataCorruptException e) {
                failures.add("copy A at offset 0: " + e.getMessage());
            }
        } else {
            failures.add("copy A at offset 0: no pool magic");
        }
        PoolMetadata b = null;
        boolean magicB = false;
        if (copySize > 0) {
            magicB = copySize + PoolLayout.HEADER_SIZE <= devSize && readHeader(device, copySize, header);
            if (magicB) {
                try {
                    b = readCopy(device, copySize, copySize, devSize);
                } catch (MetadataCorruptException e) {
                    failures.add("copy B at offset " + copySize + ": " + e.getMessage());
                }
            } else {
                failures.add("copy B at offset " + copySize + ": no pool magic");
            }
        } else {
            b = findCopyB(device, header, failures);
            magicB = b != null;
        }
        if (!magicA && !magicB) {
            return new Probe.Empty();
        }
        PoolMetadata best = a == null ? b : b == null ? a : (b.generation() > a.generation() ? b : a);
        if (best == null) {
            return new Probe.Corrupt(String.join("; ", failures));
        }
        List<String> warnings = new ArrayList<>();
        if (a == null || b == null) {
            warnings.add("metadata " + String.join("; ", failures) + " (a copy torn by a crash while it was written, or corruption); "
                    + "imported generation " + best.generation() + " from the other copy and rewrote both");
        }
        return new Probe.Found(best, warnings);
    }

    private static boolean readHeader(BlockDevice device, long offset, ByteBuffer header) {
        header.clear();
        device.read(offset, header).join();
        return PoolMetadataCodec.hasMagic(header);
    }

    private static PoolMetadata readCopy(BlockDevice device, long offset, long copySize, long devSize) throws MetadataCorruptException {
        ByteBuffer whole = DmaBuffers.allocate((int) copySize);
        device.read(offset, whole).join();
        return PoolMetadataCodec.decode(whole, devSize);
    }

    /**
     * Copy A unreadable: look for copy B at each 4 KiB offset up to half the device (2 GiB at most), reading 1 MiB at a
     * time (one 4 KiB read per offset made probing an empty disk, the case of every pool create, take 500,000 reads).
     */
    private static PoolMetadata findCopyB(BlockDevice device, ByteBuffer header, List<String> failures) {
        long devSize = device.size();
        long limit = Math.min(devSize / 2, 1L << 31);
        ByteBuffer chunk = DmaBuffers.allocate(1 << 20);
        long chunkStart = -1;
        for (long off = 4096; off + PoolLayout.HEADER_SIZE <= limit; off += 4096) {
            if (chunkStart < 0 || off + PoolLayout.HEADER_SIZE > chunkStart + chunk.limit()) {
                chunkStart = off;
                chunk.clear().limit((int) Math.min(chunk.capacity(), devSize - off) & ~4095);
                device.read(off, chunk).join();
            }
            header.clear();
            header.put(chunk.duplicate().position((int) (off - chunkStart)).limit((int) (off - chunkStart) + PoolLayout.HEADER_SIZE)).flip();
            if (!PoolMetadataCodec.hasMagic(header)) {
                continue;
            }
            try {
                PoolMetadataCodec.Header h = PoolMetadataCodec.decodeHeader(header, devSize);
                if (h.layout().metaCopySize() != off) {
                    continue;
                }
                return readCopy(device, off, off, devSize);
            } catch (MetadataCorruptException e) {
                failures.add("copy B at offset " + off + ": " + e.getMessage());
                return null;
            }
        }
        return null;
    }

    /** Imports the pool found by {@link #probe}; repairs a bad copy by committing a new generation. */
    public static Pool open(String diskUri, BlockDevice device, Probe.Found found, double thinOvercommitRatio) {
        Pool p = new Pool(diskUri, device, found.metadata(), thinOvercommitRatio);
        if (!found.warnings().isEmpty()) {
            String w = String.join("; ", found.warnings());
            LOG.warn("pool={} disk={} import: {}", p.name, diskUri, w);
            p.statusReason = w;
        }
        // Every import commits a new generation: it names this life of the pool (see importGeneration), and rewrites
        // both copies when one was bad.
        p.mutationVersion.incrementAndGet();
        p.runOp(() -> {
            p.commitNow();
            return null;
        });
        p.importGeneration = p.generation;
        p.collectDiscardedSnapshots(); // a crash may have come between a destroy and the collection it allowed
        LOG.info("pool={} uuid={} disk={} imported at generation {} with {} replicas", p.name, p.uuid, diskUri,
                p.generation, p.replicas.size());
        return p;
    }

    /** Wipes the metadata so the device no longer holds a pool, discards the data, and closes. */
    public void destroy() {
        runOp(() -> {
            for (Replica r : replicas.values()) {
                r.markDestroyed();
            }
            snapshots.values().forEach(Replica::markDestroyed);
            copyBWrite.exceptionally(t -> null).join(); // in flight, it could land after the wipe
            device.writeZeroes(0, 2 * layout.metaCopySize()).join();
            device.flush().join();
            device.unmap(layout.dataOffset(), layout.capacityBytes()).exceptionally(t -> null).join();
            return null;
        });
        LOG.info("pool={} uuid={} disk={} destroyed", name, uuid, diskUri);
        close();
    }

    /** Closes without touching the metadata (export, engine shutdown). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Replica r : replicas.values()) {
            r.markDestroyed();
        }
        snapshots.values().forEach(Replica::markDestroyed);
        ops.shutdown();
        try {
            ops.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
            copyBWrite.get(30, java.util.concurrent.TimeUnit.SECONDS); // not before the device closes under it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // Copy A holds the last commit; the next import rewrites copy B (see probe).
            LOG.warn("pool={} closing: the last commit's write of metadata copy B did not complete: {}", name, e.toString());
        }
        device.close();
    }

    // ------------------------------------------------------------------ replicas (admin)

    public Replica createReplica(UUID replicaUuid, String replicaName, long size, boolean thin) {
        return runOp(() -> {
            Replica existing = replicas.get(replicaUuid);
            if (existing != null) {
                if (existing.size() == size && existing.thin() == thin && existing.name().equals(replicaName)) {
                    return existing;
                }
                throw EngineException.exists("replica " + replicaUuid + " exists in pool " + name + " with size "
                        + existing.size() + ", thin=" + existing.thin() + ", name " + existing.name());
            }
            refuseSnapshotUuid(replicaUuid);
            checkReplicaSize(size);
            long clusters = layout.clustersFor(size);
            int slot;
            long[] reserved;
            synchronized (allocLock) {
                slot = freeSlot();
                if (thin) {
                    checkThinCommitment(clusters * layout.clusterSize());
                    reserved = new long[0];
                } else {
                    reserved = reserve(clusters, "thick replica " + replicaUuid + " of " + size + " bytes");
                }
            }
            try {
                zeroClusters(reserved);
            } catch (RuntimeException e) {
                unreserve(reserved);
                throw e;
            }
            ReplicaRecord rec = new ReplicaRecord(replicaUuid, replicaName, size, thin);
            synchronized (allocLock) {
                slots[slot] = rec;
                for (int i = 0; i < reserved.length; i++) {
                    clusterMap[(int) reserved[i]] = PoolMetadata.owner(slot, i);
                }
                mutationVersion.incrementAndGet();
            }
            long[] own = new long[(int) clusters];
            for (int i = 0; i < reserved.length; i++) {
                own[i] = reserved[i] + 1;
            }
            Replica r = new Replica(this, slot, rec, new Replica.Mapping(own, new long[0]));
            replicas.put(replicaUuid, r);
            try {
                commitNow();
            } catch (RuntimeException e) {
                // Not committed: the create is not acknowledged, so undo it in memory too.
                replicas.remove(replicaUuid);
                synchronized (allocLock) {
                    slots[slot] = null;
                    for (long c : reserved) {
                        clusterMap[(int) c] = 0;
                    }
                    mutationVersion.incrementAndGet();
                }
                unreserve(reserved);
                throw e;
            }
            LOG.info("pool={} replica={} created: {} bytes, thin={}", name, replicaUuid, size, thin);
            return r;
        });
    }

    public void destroyReplica(UUID replicaUuid) {
        runOp(() -> {
            Replica r = replicas.get(replicaUuid);
            if (r == null) {
                return null; // already gone: destroy is idempotent
            }
            r.markDestroyed();
            r.awaitIdle();
            List<Long> freed = new ArrayList<>();
            synchronized (allocLock) {
                slots[r.slot()] = null;
                for (int i = 0; i < clusterMap.length; i++) {
                    if (clusterMap[i] != 0 && PoolMetadata.slotOf(clusterMap[i]) == r.slot()) {
                        clusterMap[i] = 0; // stays out of the free set until committed and discarded
                        freed.add((long) i);
                    }
                }
                mutationVersion.incrementAndGet();
            }
            replicas.remove(replicaUuid);
            commitNow();
            releaseCommittedFrees(freed);
            LOG.info("pool={} replica={} destroyed, {} clusters freed", name, replicaUuid, freed.size());
            return null;
        });
        collectDiscardedSnapshots();
    }

    public Replica resizeReplica(UUID replicaUuid, long newSize) {
        return runOp(() -> {
            Replica r = replicas.get(replicaUuid);
            if (r == null) {
                throw EngineException.notFound("replica " + replicaUuid + " not found in pool " + name);
            }
            if (newSize == r.size()) {
                return r;
            }
            if (newSize < r.size()) {
                throw new EngineException(Kind.FAILED_PRECONDITION, "requested_size: " + newSize
                        + " is smaller than the replica's size " + r.size() + "; replicas only grow");
            }
            checkReplicaSize(newSize);
            long oldClusters = layout.clustersFor(r.size());
            long newClusters = layout.clustersFor(newSize);
            long[] reserved;
            synchronized (allocLock) {
                if (r.thin()) {
                    checkThinCommitment((newClusters - oldClusters) * layout.clusterSize());
                    reserved = new long[0];
                } else {
                    reserved = reserve(newClusters - oldClusters, "growing thick replica " + replicaUuid + " to " + newSize + " bytes");
                }
            }
            try {
                zeroClusters(reserved);
            } catch (RuntimeException e) {
                unreserve(reserved);
                throw e;
            }
            ReplicaRecord rec = slots[r.slot()].withSize(newSize);
            synchronized (allocLock) {
                slots[r.slot()] = rec;
                for (int i = 0; i < reserved.length; i++) {
                    clusterMap[(int) reserved[i]] = PoolMetadata.owner(r.slot(), oldClusters + i);
                }
                r.grow(rec, newClusters, reserved, oldClusters);
                mutationVersion.incrementAndGet();
            }
            commitNow();
            LOG.info("pool={} replica={} resized to {} bytes", name, replicaUuid, newSize);
            return r;
        });
    }

    private void checkReplicaSize(long size) {
        if (size <= 0 || size % layout.blockSize() != 0) {
            throw EngineException.invalid("size", "must be a positive multiple of the pool's block size " + layout.blockSize() + ", got " + size);
        }
    }

    private void checkThinCommitment(long extraBytes) {
        long limit = (long) (layout.capacityBytes() * thinOvercommitRatio);
        long committed = committedBytes();
        if (committed + extraBytes > limit) {
            throw new EngineException(Kind.RESOURCE_EXHAUSTED, "pool " + name + ": committing " + extraBytes
                    + " more bytes would exceed the thin overcommit limit (" + committed + " committed, limit "
                    + limit + " = " + thinOvercommitRatio + " x capacity " + layout.capacityBytes() + ")");
        }
    }

    private int freeSlot() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == null) {
                return i;
            }
        }
        throw new EngineException(Kind.RESOURCE_EXHAUSTED, "pool " + name + " holds the maximum of " + slots.length + " replicas");
    }

    /** Takes {@code n} clusters out of the free set (not yet in the persisted map). Caller holds allocLock. */
    private long[] reserve(long n, String what) {
        if (n > freeCount) {
            throw new EngineException(Kind.RESOURCE_EXHAUSTED, "pool " + name + " has " + freeCount + " free clusters ("
                    + freeCount * layout.clusterSize() + " bytes), " + what + " needs " + n);
        }
        long[] out = new long[(int) n];
        for (int i = 0; i < n; i++) {
            out[i] = takeFreeCluster();
        }
        return out;
    }

    private long takeFreeCluster() {
        int c = freeClusters.nextSetBit(allocCursor);
        if (c < 0) {
            c = freeClusters.nextSetBit(0);
        }
        freeClusters.clear(c);
        freeCount--;
        allocCursor = c + 1 >= layout.clusterCount() ? 0 : c + 1;
        return c;
    }

    private void unreserve(long[] clusters) {
        synchronized (allocLock) {
            for (long c : clusters) {
                freeClusters.set((int) c);
                freeCount++;
            }
        }
    }

    private void zeroClusters(long[] clusters) {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        int i = 0;
        while (i < clusters.length) {
            int j = i + 1;
            while (j < clusters.length && clusters[j] == clusters[j - 1] + 1) {
                j++; // zero contiguous runs in one call
            }
            fs.add(device.writeZeroes(layout.clusterOffset(clusters[i]), (j - i) * layout.clusterSize()));
            i = j;
        }
        join(CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)));
    }

    // ------------------------------------------------------------------ snapshots and clones

    /**
     * Takes a read-only, point-in-time snapshot of a replica, as SPDK's blobstore does: the snapshot takes over every
     * cluster the replica owns (one metadata commit, no data copied) and the replica reads through to it, copying a
     * cluster into one of its own at its first write there (and allocating like a thin replica from then on). Writes
     * to the replica are held back (not failed) from before the change until after its commit, so none lands in a
     * cluster that changes owner; every write completed before the call is in the snapshot, durably (the commit flushes
     * the device first). Idempotent for the same snapshot uuid, replica and name.
     */
    public Replica createSnapshot(UUID replicaUuid, UUID snapshotUuid, String snapshotName, long txnId) {
        PoolMetadataCodec.checkTxnId(txnId);
        checkName(snapshotName);
        Replica r = replicas.get(replicaUuid);
        if (r == null) {
            throw EngineException.notFound("replica " + replicaUuid + " not found in pool " + name);
        }
        awaitPaused(r);
        try {
            return runOp(() -> {
                Replica existing = snapshots.get(snapshotUuid);
                if (existing != null) {
                    ReplicaRecord.SnapshotInfo info = existing.record().snapshot();
                    if (info.source().equals(replicaUuid) && existing.name().equals(snapshotName) && !info.discarded()) {
                        return existing;
                    }
                    throw EngineException.exists("snapshot " + snapshotUuid + " exists in pool " + name + " (of replica "
                            + info.source() + ", name " + existing.name() + (info.discarded() ? ", deleted" : "") + ")");
                }
                if (replicas.containsKey(snapshotUuid)) {
                    throw EngineException.exists("snapshot uuid " + snapshotUuid + " is a replica's in pool " + name);
                }
                if (r.isDestroyed()) {
                    throw EngineException.notFound("replica " + replicaUuid + " not found in pool " + name);
                }
                int slot;
                ReplicaRecord before = r.record();
                Replica.Mapping mappingBefore = r.mapping();
                Replica snap;
                synchronized (allocLock) {
                    checkThinCommitment(r.allocatedBytes()); // the replica may diverge from all it shares now
                    slot = freeSlot();
                    ReplicaRecord rec = new ReplicaRecord(snapshotUuid, snapshotName, before.size(), false, before.parent(),
                            new ReplicaRecord.SnapshotInfo(replicaUuid, txnId, System.currentTimeMillis(), false));
                    slots[slot] = rec;
                    slots[r.slot()] = before.snapshotted(slot);
                    moveClusters(r.slot(), slot);
                    snap = new Replica(this, slot, rec, mappingBefore);
                    r.remap(slots[r.slot()], new Replica.Mapping(new long[mappingBefore.own().length()], mappingBefore.resolved()));
                    mutationVersion.incrementAndGet();
                }
                snapshots.put(snapshotUuid, snap);
                try {
                    commitNow();
                } catch (RuntimeException e) {
                    // Not committed: not acknowledged, so undo it in memory too (the pool is faulted anyway).
                    snapshots.remove(snapshotUuid);
                    synchronized (allocLock) {
                        moveClusters(slot, r.slot());
                        slots[slot] = null;
                        slots[r.slot()] = before;
                        r.remap(before, mappingBefore);
                        mutationVersion.incrementAndGet();
                    }
                    throw e;
                }
                LOG.info("pool={} replica={} snapshot={} txn={} taken: {} clusters", name, replicaUuid, snapshotUuid, txnId,
                        snap.allocatedBytes() / layout.clusterSize());
                return snap;
            });
        } finally {
            r.resumeWrites();
        }
    }

    /**
     * A new writable, thin replica that starts as the snapshot's image and shares its clusters (copy-on-write). Its
     * size is the snapshot's; it can grow later. Idempotent for the same uuid, snapshot and name.
     */
    public Replica createClone(UUID snapshotUuid, UUID cloneUuid, String cloneName) {
        checkName(cloneName);
        return runOp(() -> {
            Replica snap = snapshots.get(snapshotUuid);
            if (snap == null || snap.record().snapshot().discarded()) {
                throw EngineException.notFound("snapshot " + snapshotUuid + " not found in pool " + name);
            }
            Replica existing = replicas.get(cloneUuid);
            if (existing != null) {
                if (!cloneUuid.equals(snap.record().snapshot().source()) && readsThrough(existing.record(), snap.slot())
                        && existing.name().equals(cloneName)) {
                    return existing;
                }
                throw EngineException.exists("replica " + cloneUuid + " exists in pool " + name + " and is not a clone of snapshot "
                        + snapshotUuid + " named " + cloneName);
            }
            refuseSnapshotUuid(cloneUuid);
            ReplicaRecord rec = new ReplicaRecord(cloneUuid, cloneName, snap.size(), true, snap.slot(), null);
            Replica clone;
            int slot;
            synchronized (allocLock) {
                checkThinCommitment(layout.clustersFor(snap.size()) * layout.clusterSize());
                slot = freeSlot();
                slots[slot] = rec;
                clone = new Replica(this, slot, rec, new Replica.Mapping(new long[(int) layout.clustersFor(snap.size())],
                        snap.mapping().resolved()));
                mutationVersion.incrementAndGet();
            }
            replicas.put(cloneUuid, clone);
            try {
                commitNow();
            } catch (RuntimeException e) {
                replicas.remove(cloneUuid);
                synchronized (allocLock) {
                    slots[slot] = null;
                    mutationVersion.incrementAndGet();
                }
                throw e;
            }
            LOG.info("pool={} snapshot={} clone={} created", name, snapshotUuid, cloneUuid);
            return clone;
        });
    }

    /**
     * Deletes a snapshot. With nothing reading through it, its clusters are freed; with one replica or snapshot reading
     * through it, its clusters that one does not have yet move to it (one metadata commit, no data copied: SPDK's
     * snapshot deletion with one clone) and the rest are freed; with more (the replica it was taken of and clones of
     * it) it is kept, hidden, as their shared base ("discarded", as Mayastor does), and goes the same way once all but
     * one of them are gone. So deleting a snapshot never touches the data of a volume or clone made from it, which is
     * what CSI's DeleteSnapshot promises. Idempotent: an unknown snapshot is already gone.
     */
    public void destroySnapshot(UUID snapshotUuid) {
        Replica snap = snapshots.get(snapshotUuid);
        if (snap == null) {
            return;
        }
        runOp(() -> {
            if (snapshots.get(snapshotUuid) == snap && !snap.record().snapshot().discarded()) {
                synchronized (allocLock) {
                    slots[snap.slot()] = snap.record().discarded();
                    snap.remap(slots[snap.slot()], snap.mapping());
                    mutationVersion.incrementAndGet();
                }
                commitNow();
                LOG.info("pool={} snapshot={} deleted", name, snapshotUuid);
            }
            return null;
        });
        collectDiscardedSnapshots();
    }

    /** Frees or merges every deleted snapshot that at most one replica or snapshot still reads through. */
    private void collectDiscardedSnapshots() {
        while (true) {
            Replica candidate = runOp(() -> {
                for (Replica s : snapshots.values()) {
                    if (s.record().snapshot().discarded() && readersOf(s.slot()).size() <= 1) {
                        return s;
                    }
                }
                return null;
            });
            if (candidate == null) {
                return;
            }
            List<Replica> readers = runOp(() -> readersOf(candidate.slot()));
            Replica child = readers.isEmpty() ? null : readers.get(0);
            if (child != null && !child.isSnapshot()) {
                awaitPaused(child); // its copy-on-write writes must not race the clusters moving to it
            }
            try {
                runOp(() -> {
                    if (snapshots.get(candidate.uuid()) == candidate && readersOf(candidate.slot()).equals(readers)) {
                        removeSnapshot(candidate, child);
                    }
                    return null;
                });
            } finally {
                if (child != null && !child.isSnapshot()) {
                    child.resumeWrites();
                }
            }
        }
    }

    /** Frees a deleted snapshot's clusters, or moves those its one reader lacks to that reader. Pool thread. */
    private void removeSnapshot(Replica snap, Replica reader) {
        snap.markDestroyed();
        snap.awaitIdle();
        List<Long> freed = new ArrayList<>();
        int moved = 0;
        synchronized (allocLock) {
            AtomicLongArray snapOwn = snap.mapping().own();
            long[] readerOwn = null;
            if (reader != null) {
                AtomicLongArray ro = reader.mapping().own();
                readerOwn = new long[ro.length()];
                for (int i = 0; i < readerOwn.length; i++) {
                    readerOwn[i] = ro.get(i);
                }
            }
            for (int lc = 0; lc < snapOwn.length(); lc++) {
                long p = snapOwn.get(lc);
                if (p == 0) {
                    continue;
                }
                if (readerOwn != null && lc < readerOwn.length && readerOwn[lc] == 0) {
                    readerOwn[lc] = p;
                    clusterMap[(int) (p - 1)] = PoolMetadata.owner(reader.slot(), lc);
                    moved++;
                } else {
                    clusterMap[(int) (p - 1)] = 0; // out of the free set until committed and discarded
                    freed.add(p - 1);
                }
            }
            if (reader != null) {
                slots[reader.slot()] = reader.record().withParent(snap.record().parent());
                // The reader's backing stays right: what it now owns it reads first, the rest is still its parents'.
                reader.remap(slots[reader.slot()], new Replica.Mapping(readerOwn, reader.mapping().backing()));
            }
            slots[snap.slot()] = null;
            mutationVersion.incrementAndGet();
        }
        snapshots.remove(snap.uuid());
        commitNow();
        releaseCommittedFrees(freed);
        LOG.info("pool={} snapshot={} removed: {} clusters moved to {}, {} freed", name, snap.uuid(), moved,
                reader == null ? "none" : reader.uuid(), freed.size());
    }

    /** True when {@code slot} is among the snapshots {@code rec} reads through (a clone snapshotted since still is). */
    private boolean readsThrough(ReplicaRecord rec, int slot) {
        for (int p = rec.parent(); p >= 0; p = slots[p].parent()) {
            if (p == slot) {
                return true;
            }
        }
        return false;
    }

    /**
     * Clusters a commit just took out of the map: discarded (a failed discard only costs space), then back in the free
     * set. Only after the commit, so a crash can never find a committed owner's cluster handed to someone else.
     */
    private void releaseCommittedFrees(List<Long> freed) {
        for (long c : freed) {
            device.unmap(layout.clusterOffset(c), layout.clusterSize()).exceptionally(t -> null).join();
        }
        synchronized (allocLock) {
            for (long c : freed) {
                freeClusters.set((int) c);
                freeCount++;
            }
        }
    }

    /** Replicas and snapshots whose parent is {@code slot}. Pool thread. */
    private List<Replica> readersOf(int slot) {
        List<Replica> out = new ArrayList<>();
        for (Replica r : replicas.values()) {
            if (r.record().parent() == slot) {
                out.add(r);
            }
        }
        for (Replica s : snapshots.values()) {
            if (s.record().parent() == slot) {
                out.add(s);
            }
        }
        return out;
    }

    /** The replicas and snapshots that read through a snapshot (deleted ones included). */
    public List<Replica> readersOf(UUID snapshotUuid) {
        Replica s = snapshots.get(snapshotUuid);
        return s == null ? List.of() : runOp(() -> readersOf(s.slot()));
    }

    /** Gives every cluster {@code from} owns to {@code to}, same logical places. Caller holds allocLock. */
    private void moveClusters(int from, int to) {
        for (int i = 0; i < clusterMap.length; i++) {
            if (clusterMap[i] != 0 && PoolMetadata.slotOf(clusterMap[i]) == from) {
                clusterMap[i] = PoolMetadata.owner(to, PoolMetadata.logicalOf(clusterMap[i]));
            }
        }
    }

    /** Holds the replica's new writes back and waits for those in flight; resumes them again if that takes too long. */
    private void awaitPaused(Replica r) {
        try {
            r.pauseWrites().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
            r.resumeWrites();
            throw new EngineException(Kind.UNAVAILABLE, "replica " + r.uuid() + ": writes in flight did not complete within 30 s");
        } catch (InterruptedException e) {
            r.resumeWrites();
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.UNAVAILABLE, "interrupted");
        }
    }

    private void refuseSnapshotUuid(UUID id) {
        if (snapshots.containsKey(id)) {
            throw EngineException.exists("uuid " + id + " is a snapshot's in pool " + name);
        }
    }

    private static void checkName(String n) {
        if (n == null || n.isEmpty() || n.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > PoolMetadataCodec.MAX_REPLICA_NAME) {
            throw EngineException.invalid("name", "must be 1 to " + PoolMetadataCodec.MAX_REPLICA_NAME + " bytes, got " + n);
        }
    }

    /** Snapshots that exist for their users (deleted ones kept as a base for others are not listed). */
    public List<Replica> snapshots() {
        return snapshots.values().stream().filter(s -> !s.record().snapshot().discarded()).toList();
    }

    public Replica snapshot(UUID id) {
        Replica s = snapshots.get(id);
        return s == null || s.record().snapshot().discarded() ? null : s;
    }

    /** Every slot, snapshots (deleted ones too) and replicas: for checks of the whole pool. */
    public List<Replica> allSlots() {
        List<Replica> out = new ArrayList<>(replicas.values());
        out.addAll(snapshots.values());
        return out;
    }

    /** Replicas other than its source that read through the snapshot directly: its clones (and their later versions). */
    public List<UUID> clonesOf(UUID snapshotUuid) {
        Replica s = snapshots.get(snapshotUuid);
        if (s == null) {
            return List.of();
        }
        return runOp(() -> {
            List<UUID> out = new ArrayList<>();
            for (Replica r : readersOf(s.slot())) {
                if (!r.isSnapshot() && !r.uuid().equals(s.record().snapshot().source())) {
                    out.add(r.uuid());
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ hot path support

    /**
     * Allocates a cluster for a replica's logical cluster and fills it: a copy of physical cluster {@code copyOf} (the
     * snapshot's, copy-on-write), or zeroes when {@code copyOf} is negative. Completes with the physical cluster. The
     * map gets the entry only once the fill completed, so a commit never records a cluster holding anything else.
     */
    public CompletableFuture<Long> allocateCluster(Replica r, long logical, long copyOf) {
        long phys;
        synchronized (allocLock) {
            if (freeCount == 0) {
                return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.ENOSPC, "allocate", r.uri(),
                        logical * layout.clusterSize(), layout.clusterSize(), "pool " + name + " is full"));
            }
            phys = takeFreeCluster();
        }
        final long p = phys;
        CompletableFuture<Void> fill;
        if (copyOf < 0) {
            fill = device.writeZeroes(layout.clusterOffset(p), layout.clusterSize());
        } else {
            fill = copier.copy(layout.clusterOffset(copyOf), layout.clusterOffset(p), layout.clusterSize());
        }
        return fill.handle((v, t) -> {
            synchronized (allocLock) {
                if (t != null || r.isDestroyed()) {
                    freeClusters.set((int) p);
                    freeCount++;
                    throw t != null ? new java.util.concurrent.CompletionException(t)
                            : new java.util.concurrent.CompletionException(new BlockIoException(BlockIoException.ESHUTDOWN,
                            "allocate", r.uri(), logical * layout.clusterSize(), layout.clusterSize(), "replica destroyed"));
                }
                clusterMap[(int) p] = PoolMetadata.owner(r.slot(), logical);
                mutationVersion.incrementAndGet();
            }
            return p;
        });
    }

    /**
     * Makes every write completed before this call durable, with the cluster allocations they needed.
     * Without new allocations this is one device flush; otherwise a metadata commit on the pool thread.
     */
    public CompletableFuture<Void> sync() {
        long need = mutationVersion.get();
        if (need <= committedVersion) {
            return device.flush();
        }
        return CompletableFuture.runAsync(() -> {
            if (committedVersion >= need) {
                join(device.flush()); // a flush that starts after the request still covers it
            } else {
                commitNow();
            }
        }, ops);
    }

    /** How many metadata changes there have been; see {@link #committedVersion()}. */
    public long mutationVersion() {
        return mutationVersion.get();
    }

    /** Every metadata change up to this version is committed (durable). */
    public long committedVersion() {
        return committedVersion;
    }

    /** Commits the in-memory metadata as a new generation. Runs on the pool thread. */
    private void commitNow() {
        if (faulted) {
            throw new EngineException(Kind.UNAVAILABLE, "pool " + name + " is faulted: " + statusReason);
        }
        long version;
        try {
            join(copyBWrite); // the previous commit's copy B still reads this buffer
            synchronized (allocLock) {
                version = mutationVersion.get();
                PoolMetadataCodec.encode(snapshot(generation + 1), commitBuffer);
            }
            // Data (clusters the new metadata points at) and the previous copy B first; then copy A, durable: that
            // is the commit. Copy B follows without waiting; until the next commit's flush a crash may tear it, and
            // then import takes copy A (the newest valid generation wins). One flush fewer per commit than writing
            // and flushing both copies, and every acknowledged generation is still on disk in at least one copy.
            join(device.flush());
            join(writeCopy(device, layout, 0, commitBuffer));
            join(device.flush());
            copyBWrite = writeCopy(device, layout, 1, commitBuffer);
        } catch (RuntimeException e) {
            // The media state is unknown: stop accepting metadata changes rather than guess.
            faulted = true;
            statusReason = "metadata commit failed: " + e.getMessage();
            LOG.error("pool={} metadata commit of generation {} failed; pool faulted", name, generation + 1, e);
            throw new EngineException(Kind.UNAVAILABLE, "pool " + name + " metadata commit failed: " + e.getMessage(), e);
        }
        generation++;
        committedVersion = Math.max(committedVersion, version);
    }

    private static CompletableFuture<Void> writeCopy(BlockDevice device, PoolLayout layout, int copy, ByteBuffer buf) {
        return device.write(layout.copyOffset(copy), buf.duplicate().position(0).limit((int) layout.metaCopySize()));
    }

    private PoolMetadata snapshot(long gen) {
        return new PoolMetadata(name, uuid, deviceSize, layout, gen, slots, clusterMap);
    }

    // ------------------------------------------------------------------ queries

    public String name() {
        return name;
    }

    public UUID uuid() {
        return uuid;
    }

    public String diskUri() {
        return diskUri;
    }

    public PoolLayout layout() {
        return layout;
    }

    public BlockDevice device() {
        return device;
    }

    public long generation() {
        return generation;
    }

    /** See {@link #importGeneration}: part of every replica's instance identity. */
    public long importGeneration() {
        return importGeneration;
    }

    public boolean isFaulted() {
        return faulted;
    }

    public String statusReason() {
        return statusReason;
    }

    public long capacityBytes() {
        return layout.capacityBytes();
    }

    /** Clusters allocated or being allocated (not free), in bytes. */
    public long usedBytes() {
        synchronized (allocLock) {
            return (layout.clusterCount() - freeCount) * layout.clusterSize();
        }
    }

    /** Writable replicas at their full size (they may all diverge from their snapshots), snapshots at what they hold. */
    public long committedBytes() {
        long sum = 0;
        for (ReplicaRecord r : slots) {
            if (r != null && !r.isSnapshot()) {
                sum += layout.clustersFor(r.size()) * layout.clusterSize();
            }
        }
        for (Replica s : snapshots.values()) {
            sum += s.allocatedBytes();
        }
        return sum;
    }

    public Collection<Replica> replicas() {
        return replicas.values();
    }

    public Replica replica(UUID id) {
        return replicas.get(id);
    }

    public long allocatedClusters(int slot) {
        long n = 0;
        synchronized (allocLock) {
            for (long e : clusterMap) {
                if (e != 0 && PoolMetadata.slotOf(e) == slot) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Runs an admin operation on the pool thread and waits for it: one at a time per pool. */
    private <T> T runOp(Callable<T> op) {
        if (closed && !Thread.currentThread().getName().equals("pool-" + name)) {
            throw new EngineException(Kind.NOT_FOUND, "pool " + name + " is closed");
        }
        Future<T> f = ops.submit(op);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.UNAVAILABLE, "interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof EngineException ee) {
                throw ee;
            }
            if (c instanceof IllegalArgumentException iae) {
                throw new EngineException(Kind.INVALID_ARGUMENT, iae.getMessage(), iae);
            }
            BlockIoException io = BlockIoException.unwrap(c);
            throw new EngineException(Kind.INTERNAL, "pool " + name + ": " + (io != null ? io.getMessage() : String.valueOf(c)), c);
        }
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }
}
