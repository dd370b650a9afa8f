package io.javastor.ioengine.replica;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.IoStats;
import io.javastor.ioengine.device.InFlightCount;
import io.javastor.ioengine.device.WriteGate;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolLayout;
import io.javastor.ioengine.pool.ReplicaRecord;

import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A logical volume in a pool, itself a {@link BlockDevice}: offsets map to the pool's clusters.
 *
 * <p>The hot path reads the logical-to-physical map without locks (an {@link AtomicLongArray});
 * only a write to an unallocated cluster of a thin replica goes to the pool to allocate, and
 * concurrent writers of that cluster share one allocation. Reads of unallocated ranges return zeroes.
 */
public final class Replica implements BlockDevice {
    private final Pool pool;
    private final PoolLayout layout;
    private final int slot;
    private volatile ReplicaRecord record;
    /** Replaced (grown, snapshotted, merged into) under the pool's lock; read without locks on the hot path. */
    private volatile Mapping mapping;
    private final ConcurrentHashMap<Long, CompletableFuture<Long>> allocating = new ConcurrentHashMap<>();
    private final InFlightCount inFlight = new InFlightCount();
    /** Paused while a snapshot changes who owns this replica's clusters. */
    private final WriteGate writes = new WriteGate();
    /** The pool's mutation version after this replica's last cluster allocation: committed once the pool's is as high. */
    private volatile long lastAllocation;
    private final IoStats stats = new IoStats();
    private volatile boolean destroyed;
    /** Completes once destroyed and no I/O is in flight. */
    private final CompletableFuture<Void> drained = new CompletableFuture<>();

    /**
     * Where a replica's logical clusters are, as physical cluster + 1 (0: none).
     *
     * @param own     the clusters this replica owns (allocated by its writes); grows by allocation
     * @param backing for each logical cluster it does not own, the one its nearest snapshot (or that one's parents)
     *                holds: read-only, so a write there first copies it into an own cluster (copy-on-write)
     */
    public record Mapping(AtomicLongArray own, long[] backing) {
        public Mapping(long[] own, long[] backing) {
            this(new AtomicLongArray(own), backing);
        }

        long backed(long lc) {
            return lc < backing.length ? backing[(int) lc] : 0;
        }

        /** Own clusters over backing ones: what a snapshot of this replica (or a clone of this snapshot) reads. */
        public long[] resolved() {
            long[] r = new long[own.length()];
            for (int i = 0; i < r.length; i++) {
                long p = own.get(i);
                r[i] = p != 0 ? p : backed(i);
            }
            return r;
        }
    }

    public Replica(Pool pool, int slot, ReplicaRecord record, Mapping mapping) {
        this.pool = pool;
        this.layout = pool.layout();
        this.slot = slot;
        this.record = record;
        this.mapping = mapping;
    }

    public ReplicaRecord record() {
        return record;
    }

    public boolean isSnapshot() {
        return record.isSnapshot();
    }

    public Mapping mapping() {
        return mapping;
    }

    /** The pool swaps the mapping (and record) when a snapshot is taken or merged; under its lock, writes paused. */
    public void remap(ReplicaRecord newRecord, Mapping newMapping) {
        record = newRecord;
        mapping = newMapping;
    }

    public UUID uuid() {
        return record.uuid();
    }

    public String name() {
        return record.name();
    }

    public boolean thin() {
        return record.thin();
    }

    public int slot() {
        return slot;
    }

    public Pool pool() {
        return pool;
    }

    public IoStats stats() {
        return stats;
    }

    /** Bytes of the clusters this replica owns (not those it reads from its snapshots). */
    public long allocatedBytes() {
        AtomicLongArray m = mapping.own();
        long n = 0;
        for (int i = 0; i < m.length(); i++) {
            if (m.get(i) != 0) {
                n++;
            }
        }
        return n * layout.clusterSize();
    }

    /**
     * True when the logical cluster holding {@code offset} may hold data: owned, or read from a snapshot. (Only a
     * cluster neither thin allocation nor any snapshot ever wrote reads as zeroes for sure.)
     */
    public boolean isAllocated(long offset) {
        Mapping m = mapping;
        long lc = offset / layout.clusterSize();
        return lc < m.own().length() && (m.own().get((int) lc) != 0 || m.backed(lc) != 0);
    }

    @Override
    public String uri() {
        return "bdev:///" + record.uuid();
    }

    @Override
    public long size() {
        return record.size();
    }

    @Override
    public int blockSize() {
        return layout.blockSize();
    }

    @Override
    public int bufferAlignment() {
        return pool.device().bufferAlignment();
    }

    public boolean isDestroyed() {
        return destroyed;
    }

    public void markDestroyed() {
        destroyed = true;
        if (inFlight.sum() == 0) {
            drained.complete(null);
        }
    }

    /** Waits (bounded) until no I/O of this replica is in flight. Called by destroy after markDestroyed. */
    public void awaitIdle() {
        try {
            drained.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new io.javastor.ioengine.EngineException(io.javastor.ioengine.EngineException.Kind.UNAVAILABLE,
                    "replica " + uuid() + " still has " + inFlight.sum() + " I/Os in flight after 30 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.javastor.ioengine.EngineException(io.javastor.ioengine.EngineException.Kind.UNAVAILABLE, "interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Grows the map; the pool calls this under its allocation lock. The grown range has no snapshot data. */
    public void grow(ReplicaRecord newRecord, long newClusters, long[] reserved, long oldClusters) {
        Mapping old = mapping;
        AtomicLongArray grown = new AtomicLongArray((int) newClusters);
        for (int i = 0; i < old.own().length(); i++) {
            grown.set(i, old.own().get(i));
        }
        for (int i = 0; i < reserved.length; i++) {
            grown.set((int) (oldClusters + i), reserved[i] + 1);
        }
        mapping = new Mapping(grown, old.backing());
        record = newRecord;
    }

    // ------------------------------------------------------------------ pausing writes (snapshots)

    /**
     * Holds new writes back (they wait, they do not fail) and completes once every write already admitted has
     * completed: then the replica's clusters can change owner without a write landing in the wrong one. Reads go on.
     * Must be followed by {@link #resumeWrites()}.
     */
    public CompletableFuture<Void> pauseWrites() {
        return writes.pause();
    }

    public void resumeWrites() {
        writes.resume();
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return dataIo(offset, dst, false, false);
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        return dataIo(offset, src, true, false);
    }

    /**
     * A write that is durable when it completes: into allocated clusters with the device's own FUA write; into a
     * thin replica's new cluster with a pool sync after it, which commits the allocation (data before map).
     */
    @Override
    public CompletableFuture<Void> writeFua(long offset, ByteBuffer src) {
        return dataIo(offset, src, true, true);
    }

    private CompletableFuture<Void> dataIo(long offset, ByteBuffer buf, boolean write, boolean fua) {
        int ticket = NO_TICKET;
        if (write) {
            ticket = writes.admit();
            if (ticket == WriteGate.HELD) {
                return writes.whenOpen().thenCompose(v -> dataIo(offset, buf, true, fua));
            }
        }
        int len = buf.remaining();
        int counted = inFlight.begin();
        CompletableFuture<Void> refused = refusal(write ? "write" : "read", offset, len);
        if (refused != null) {
            finish(counted, ticket);
            return refused;
        }
        long t0 = System.nanoTime();
        CompletableFuture<Void> f = forEachCluster(offset, buf, write, fua);
        return end(f, write ? IoStats.Kind.WRITE : IoStats.Kind.READ, len, t0, counted, ticket);
    }

    /** Splits an I/O at cluster boundaries; the common case (one cluster) allocates nothing extra. */
    private CompletableFuture<Void> forEachCluster(long offset, ByteBuffer buf, boolean write, boolean fua) {
        long cs = layout.clusterSize();
        int len = buf.remaining();
        long first = offset / cs;
        long last = (offset + len - 1) / cs;
        if (first == last) {
            return clusterIo(first, offset - first * cs, buf, write, fua);
        }
        CompletableFuture<?>[] parts = new CompletableFuture<?>[(int) (last - first + 1)];
        int pos = buf.position();
        long off = offset;
        for (long lc = first; lc <= last; lc++) {
            int n = (int) Math.min(len - (off - offset), (lc + 1) * cs - off);
            ByteBuffer piece = buf.duplicate().position(pos).limit(pos + n);
            parts[(int) (lc - first)] = clusterIo(lc, off - lc * cs, piece, write, fua);
            pos += n;
            off += n;
        }
        return CompletableFuture.allOf(parts);
    }

    private CompletableFuture<Void> clusterIo(long lc, long inCluster, ByteBuffer buf, boolean write, boolean fua) {
        Mapping m = mapping;
        long p = m.own().get((int) lc);
        if (p != 0) {
            long devOff = layout.clusterOffset(p - 1) + inCluster;
            if (!write) {
                return pool.device().read(devOff, buf);
            }
            // An allocation is in the map before it is committed: a FUA write into it must commit it too.
            if (fua && pool.committedVersion() < lastAllocation) {
                return pool.device().write(devOff, buf).thenCompose(v -> pool.sync());
            }
            return fua ? pool.device().writeFua(devOff, buf) : pool.device().write(devOff, buf);
        }
        long backed = m.backed(lc);
        if (!write) {
            if (backed != 0) {
                return pool.device().read(layout.clusterOffset(backed - 1) + inCluster, buf);
            }
            zeroFill(buf);
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> written = allocate(lc).thenCompose(phys -> pool.device().write(layout.clusterOffset(phys) + inCluster, buf));
        return fua ? written.thenCompose(v -> pool.sync()) : written;
    }

    /** A cluster of this replica's own for {@code lc}: copied from its snapshot's (copy-on-write) or zeroed. */
    private CompletableFuture<Long> allocate(long lc) {
        CompletableFuture<Long> mine = new CompletableFuture<>();
        CompletableFuture<Long> existing = allocating.putIfAbsent(lc, mine);
        if (existing != null) {
            return existing;
        }
        Mapping m = mapping;
        long p = m.own().get((int) lc); // allocated meanwhile by a writer that already finished
        if (p != 0) {
            allocating.remove(lc, mine);
            mine.complete(p - 1);
            return mine;
        }
        pool.allocateCluster(this, lc, m.backed(lc) - 1).whenComplete((phys, t) -> {
            if (t == null) {
                lastAllocation = Math.max(lastAllocation, pool.mutationVersion()); // before the map shows the cluster
                m.own().set((int) lc, phys + 1);
            }
            allocating.remove(lc, mine);
            if (t != null) {
                mine.completeExceptionally(t);
            } else {
                mine.complete(phys);
            }
        });
        return mine;
    }

    private static void zeroFill(ByteBuffer buf) {
        ByteBuffer b = buf.duplicate();
        while (b.remaining() >= 8) {
            b.putLong(0L);
        }
        while (b.hasRemaining()) {
            b.put((byte) 0);
        }
    }

    @Override
    public CompletableFuture<Void> flush() {
        int counted = inFlight.begin();
        CompletableFuture<Void> refused = refusal("flush", 0, 0);
        if (refused != null) {
            finish(counted, NO_TICKET);
            return refused;
        }
        long t0 = System.nanoTime();
        return end(pool.sync(), IoStats.Kind.FLUSH, 0, t0, counted, NO_TICKET);
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        return writeZeroes(offset, length);
    }

    /**
     * Zeroes a range. Unallocated clusters already read as zeroes; allocated ones are zeroed on the
     * device. (Clusters are not freed on unmap: a freed-then-reallocated cluster would need a commit
     * on the hot path; space comes back when the replica is destroyed.)
     */
    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        int ticket = writes.admit();
        if (ticket == WriteGate.HELD) {
            return writes.whenOpen().thenCompose(v -> writeZeroes(offset, length));
        }
        int counted = inFlight.begin();
        CompletableFuture<Void> refused = refusal("write-zeroes", offset, length);
        if (refused != null) {
            finish(counted, ticket);
            return refused;
        }
        long t0 = System.nanoTime();
        long cs = layout.clusterSize();
        java.util.List<CompletableFuture<Void>> parts = new java.util.ArrayList<>();
        Mapping m = mapping;
        long off = offset;
        long end = offset + length;
        while (off < end) {
            long lc = off / cs;
            long n = Math.min(end - off, (lc + 1) * cs - off);
            long p = m.own().get((int) lc);
            long inCluster = off - lc * cs;
            if (p != 0) {
                parts.add(pool.device().writeZeroes(layout.clusterOffset(p - 1) + inCluster, n));
            } else if (m.backed(lc) != 0) {
                // Snapshot data below: the zeroes go into an own copy, the snapshot keeps its data.
                parts.add(allocate(lc).thenCompose(phys -> pool.device().writeZeroes(layout.clusterOffset(phys) + inCluster, n)));
            }
            off += n;
        }
        return end(CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)), IoStats.Kind.WRITE_ZEROES, length, t0, counted, ticket);
    }

    /** No write-gate ticket (reads and flushes do not pass the gate): never a ticket, as tickets are stripe offsets, >= 16. */
    private static final int NO_TICKET = -1;

    /**
     * Why an I/O counted in (first, so a destroy never misses an admitted I/O) may not run, as its failed result; null
     * when it may.
     */
    private CompletableFuture<Void> refusal(String op, long offset, long length) {
        BlockIoException refused = null;
        if (destroyed) {
            refused = new BlockIoException(BlockIoException.ESHUTDOWN, op, uri(), offset, length, "replica destroyed or pool closed");
        } else if (record.isSnapshot() && !op.equals("read") && !op.equals("flush")) {
            refused = new BlockIoException(BlockIoException.EROFS, op, uri(), offset, length, "snapshot " + uuid() + " is read-only");
        } else if (!op.equals("flush")) {
            try {
                checkRange(op, offset, length);
            } catch (BlockIoException e) {
                refused = e;
            }
        }
        return refused == null ? null : CompletableFuture.failedFuture(refused);
    }

    /** Counts an I/O out (and gives back its write-gate ticket, if it has one); the last one out of a destroyed replica drains it. */
    private void finish(int counted, int ticket) {
        try {
            inFlight.end(counted);
            if (destroyed && inFlight.sum() == 0) {
                drained.complete(null);
            }
        } finally {
            if (ticket != NO_TICKET) {
                writes.done(ticket);
            }
        }
    }

    /**
     * Counts the I/O out when it completes, with its stats, and gives back its write-gate ticket: one completion
     * stage for all three, as this runs for every child of every write.
     */
    private CompletableFuture<Void> end(CompletableFuture<Void> f, IoStats.Kind kind, long bytes, long t0, int counted, int ticket) {
        return f.whenComplete((v, t) -> {
            try {
                stats.record(kind, bytes, System.nanoTime() - t0, t == null);
            } finally {
                finish(counted, ticket);
            }
        });
    }

    // ------------------------------------------------------------------ one writer at a time

    /** Guarded by this: who may write now (null: nobody), how many openings it holds, and who wrote last. */
    private String writer;
    private int writerOpenings;
    private String lastWriter;
    private long writerEpoch;

    /**
     * Opens the replica for writing on behalf of {@code holder} (a nexus, an NVMe-oF share). One holder at a time: a
     * second one is refused with the name of the first, so two nexuses can never mirror into (or rebuild over) the same
     * replica. The same holder may hold several openings (a child re-added while its old opening is still closing).
     * Closing the returned device gives the opening back.
     */
    public synchronized BlockDevice openForWriting(String holder) {
        if (destroyed) {
            throw new io.javastor.ioengine.EngineException(io.javastor.ioengine.EngineException.Kind.NOT_FOUND,
                    "replica " + uuid() + " is destroyed");
        }
        if (writer != null && !writer.equals(holder)) {
            throw new io.javastor.ioengine.EngineException(io.javastor.ioengine.EngineException.Kind.FAILED_PRECONDITION,
                    "replica " + uuid() + " is open for writing by " + writer + "; " + holder + " cannot open it too");
        }
        if (writer == null && !holder.equals(lastWriter)) {
            writerEpoch++; // someone else may have written since the last holder: not the instance it knew
        }
        writer = holder;
        lastWriter = holder;
        writerOpenings++;
        return new WriterOpening(this, holder);
    }

    private synchronized void closeOpening(String holder) {
        if (holder.equals(writer) && --writerOpenings == 0) {
            writer = null;
        }
    }

    /** Who holds the replica for writing now, or null. */
    public synchronized String writer() {
        return writer;
    }

    /**
     * This life of the pool (its import generation) and the writers the replica has had: a nexus that finds the same
     * value after a fault knows nothing it acknowledged was lost and nobody else wrote, so its dirty log is complete.
     */
    @Override
    public synchronized String instanceId() {
        return pool.uuid() + "/" + pool.importGeneration() + "/" + writerEpoch;
    }

    /** One writer's opening: the replica itself, closed once. */
    private static final class WriterOpening extends io.javastor.ioengine.device.ForwardingBlockDevice {
        private final Replica replica;
        private final String holder;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

        WriterOpening(Replica replica, String holder) {
            super(replica);
            this.replica = replica;
            this.holder = holder;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                replica.closeOpening(holder);
            }
        }
    }

    /** A replica is closed by its pool (destroy or export), never on its own. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return (record.isSnapshot() ? "Snapshot[" : "Replica[") + record.uuid() + " in " + pool.name() + ", " + record.size() + " bytes, thin=" + record.thin() + "]";
    }
}
