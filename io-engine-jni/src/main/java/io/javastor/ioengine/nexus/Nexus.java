package io.javastor.ioengine.nexus;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nvmf.auth.DhchapKeys;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.uring.SubmissionBatch;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.IoStats;
import io.javastor.ioengine.device.WriteGate;
import io.javastor.ioengine.replica.Replica;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Function;

/**
 * A replicated volume target: a {@link BlockDevice} that mirrors writes to every child (replica) and reads from one.
 *
 * <p>Writes, write-zeroes, unmap and flush go to every child that takes writes (Online, or Degraded while being
 * rebuilt) and complete when all of them have; a child whose I/O fails or times out is faulted first (its range
 * logged as dirty for a later partial rebuild), then the I/O completes from the others. The I/O succeeds when at
 * least one Online child completed it; with none left it fails with EIO and the nexus is Faulted. Reads go to the
 * Online child with the least I/O outstanding and are retried on another one when they fail.
 *
 * <p>Adding a child (or re-adding a faulted one) starts a {@link NexusRebuildJob}; writes to a segment and the
 * rebuild's copy of it exclude each other through {@link SegmentLocks}.
 */
public final class Nexus implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(Nexus.class);
    /** Pause leases and each nexus's sweep of its child I/Os past their deadline ({@link IoDeadlines}). */
    private static final io.netty.util.HashedWheelTimer TIMER = new io.netty.util.HashedWheelTimer(r -> {
        Thread th = new Thread(r, "nexus-io-timeout");
        th.setDaemon(true);
        return th;
    }, 50, TimeUnit.MILLISECONDS, 512);
    private static final ExecutorService BACKGROUND = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "nexus-background");
        t.setDaemon(true);
        return t;
    });
    private static final int HISTORY_LIMIT = 64;

    private final UUID uuid;
    /** Grows by {@link #resize}; read on every I/O's range check. */
    private volatile long size;
    private final int blockSize;
    private final NexusOptions options;
    private final ChildDeviceOpener opener;
    private final ChildHealthLedger ledger;
    private final SegmentLocks locks;
    private volatile long segments;
    // Copy-on-write by the nexus itself: changed only under `admin`, read by each I/O as one field (no allocation).
    private volatile NexusChild[] children = new NexusChild[0];
    private final Map<String, NexusRebuildJob> rebuilds = new ConcurrentHashMap<>();
    private final List<RebuildStats> history = new ArrayList<>();
    private final IoStats stats = new IoStats();
    private final AtomicInteger readCursor = new AtomicInteger();
    private final Object admin = new Object();
    private volatile NexusState state;
    private volatile boolean shutdownClean;
    /** This nexus's reservation key on its children (the volume's target generation); 0: no fencing. */
    private final long reservationKey;
    /** Why a newer target of the volume fenced this one off its children (a write got Reservation Conflict); null while not. */
    private volatile String fencedBy;
    private final List<Runnable> fenceListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Paused while the control plane snapshots the children: see {@link #pauseWrites}. */
    private final WriteGate writes = new WriteGate();
    /** Guarded by {@code admin}: the pause now in force (0: none), the last one's id, and its lease timer. */
    private long activePause;
    private long pauseSeq;
    private io.netty.util.Timeout pauseLease;
    /** Child I/Os in flight and when each is due: see {@link #childCall} and {@link FanOut}. */
    private final IoDeadlines deadlines;
    private final long sweepPeriodNanos;
    /** Whether a sweep is scheduled: it stops once shut down with nothing in flight, and an I/O tracked after that re-arms it. */
    private final java.util.concurrent.atomic.AtomicBoolean sweeping = new java.util.concurrent.atomic.AtomicBoolean();

    private Nexus(UUID uuid, long size, int blockSize, NexusOptions options, ChildDeviceOpener opener, ChildHealthLedger ledger,
                  long reservationKey) {
        this.uuid = uuid;
        this.reservationKey = reservationKey;
        this.ledger = ledger;
        this.size = size;
        this.blockSize = blockSize;
        this.options = options;
        this.opener = opener;
        this.locks = new SegmentLocks(options.segmentSize());
        this.segments = (size + options.segmentSize() - 1) / options.segmentSize();
        this.state = new NexusState.Online("created", Instant.now());
        this.deadlines = new IoDeadlines(options.ioTimeout().toNanos());
        // An I/O is timed out at most a period after its deadline: an eighth of the timeout, 250 ms at most (the default
        // timeout is 10 s), as the NVMe/TCP host's queues scan theirs.
        this.sweepPeriodNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(options.ioTimeout().toNanos() / 8,
                TimeUnit.MILLISECONDS.toNanos(250)));
    }

    /** Puts a child I/O on record with its deadline, and makes sure a sweep will look at it. */
    private void track(IoDeadlines.Entry e) {
        deadlines.track(e);
        if (!sweeping.get()) {
            armSweep();
        }
    }

    private void armSweep() {
        if (sweeping.compareAndSet(false, true)) {
            scheduleSweep();
        }
    }

    /**
     * The next sweep, a period from now. The timer holds the nexus weakly: a nexus dropped without {@link #destroy()}
     * (whose I/O nobody can see any more) is not kept alive by its own sweep.
     */
    private void scheduleSweep() {
        java.lang.ref.WeakReference<Nexus> self = new java.lang.ref.WeakReference<>(this);
        TIMER.newTimeout(t -> {
            Nexus n = self.get();
            if (n != null) {
                n.sweepDeadlines();
            }
        }, sweepPeriodNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Times out the child I/Os past their deadline, and comes back a period later: until the nexus is shut down with
     * nothing left in flight (an I/O of a hung child still expires after the shutdown; one started after it re-arms).
     */
    private void sweepDeadlines() {
        try {
            deadlines.sweep(System.nanoTime());
        } catch (Throwable e) {
            LOG.error("nexus={}: failing a timed-out child I/O failed", uuid, e);
        } finally {
            if (!(state instanceof NexusState.Shutdown) || !deadlines.isEmpty()) {
                scheduleSweep();
            } else {
                sweeping.set(false);
                // An I/O tracked between the check and the flag saw the flag still set: look again.
                if (!deadlines.isEmpty()) {
                    armSweep();
                }
            }
        }
    }

    /**
     * Opens every child and assembles a nexus whose children are all Online (they are taken to hold the same
     * data: new replicas, or the ones of a volume the control plane knows to be in sync).
     */
    public static Nexus create(UUID uuid, long size, List<String> childUris, ChildDeviceOpener opener, NexusOptions options) {
        return create(uuid, size, childUris, opener, options, ChildHealthLedger.NONE);
    }

    /** As above, recording child faults and rebuilds in {@code ledger}. */
    public static Nexus create(UUID uuid, long size, List<String> childUris, ChildDeviceOpener opener, NexusOptions options,
                               ChildHealthLedger ledger) {
        return create(uuid, size, childUris, opener, options, ledger, 0);
    }

    /**
     * As above, fencing every child with {@code reservationKey} before any I/O (see {@link ChildFence}): the volume's
     * target generation, so that this nexus's predecessors can no longer write to its children. 0: no fencing.
     */
    public static Nexus create(UUID uuid, long size, List<String> childUris, ChildDeviceOpener opener, NexusOptions options,
                               ChildHealthLedger ledger, long reservationKey) {
        return create(uuid, size, childUris, opener, options, ledger, reservationKey, Map.of());
    }

    /** As above, authenticating to remote children with {@code childKeys} (DH-HMAC-CHAP secrets by child URI). */
    public static Nexus create(UUID uuid, long size, List<String> childUris, ChildDeviceOpener opener, NexusOptions options,
                               ChildHealthLedger ledger, long reservationKey, Map<String, DhchapKeys> childKeys) {
        if (childUris.isEmpty()) {
            throw EngineException.invalid("children", "at least one child URI is required");
        }
        if (childUris.stream().distinct().count() != childUris.size()) {
            throw EngineException.invalid("children", "a child URI is listed twice");
        }
        List<BlockDevice> opened = new ArrayList<>();
        try {
            for (String uri : childUris) {
                opened.add(opener.open(uri, "nexus " + uuid, childKeys.get(uri)));
            }
            for (BlockDevice d : opened) {
                ChildFence.claim(uuid, d, reservationKey);
            }
            int bs = opened.get(0).blockSize();
            if (size <= 0 || size % bs != 0) {
                throw EngineException.invalid("size", "must be a positive multiple of the children's block size " + bs);
            }
            for (BlockDevice d : opened) {
                checkGeometry(d, size, bs);
            }
            Nexus n = new Nexus(uuid, size, bs, options, opener, ledger, reservationKey);
            for (int i = 0; i < childUris.size(); i++) {
                n.addToChildren(new NexusChild(childUris.get(i), new ChildIo(opened.get(i)),
                        new ChildState.Online("created with the nexus", Instant.now())));
            }
            n.armSweep();
            LOG.info("nexus={} created: {} bytes, block size {}, children {}", uuid, size, bs, childUris);
            return n;
        } catch (RuntimeException e) {
            opened.forEach(Nexus::closeQuietly);
            throw e;
        }
    }

    private static void checkGeometry(BlockDevice d, long size, int bs) {
        if (d.blockSize() != bs) {
            throw EngineException.invalid("children", "child " + d.uri() + " has block size " + d.blockSize() + ", others " + bs);
        }
        if (d.size() < size) {
            throw EngineException.invalid("children", "child " + d.uri() + " has " + d.size() + " bytes, less than the nexus size " + size);
        }
    }

    public UUID uuid() {
        return uuid;
    }

    public NexusState state() {
        return state;
    }

    public NexusOptions options() {
        return options;
    }

    private void addToChildren(NexusChild child) {
        NexusChild[] now = children;
        NexusChild[] next = Arrays.copyOf(now, now.length + 1);
        next[now.length] = child;
        children = next;
    }

    private void removeFromChildren(NexusChild child) {
        children = Arrays.stream(children).filter(c -> c != child).toArray(NexusChild[]::new);
    }

    public List<NexusChild> children() {
        return List.of(children);
    }

    public Optional<NexusChild> child(String uri) {
        for (NexusChild c : children) {
            if (c.uri().equals(uri)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    @Override
    public String uri() {
        return "nexus:///" + uuid;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    /** Children may be local O_DIRECT replicas, now or after an AddChild: ask for page-aligned buffers always. */
    @Override
    public int bufferAlignment() {
        return DmaBuffers.ALIGNMENT;
    }

    long segmentCount() {
        return segments;
    }

    SegmentLocks locks() {
        return locks;
    }

    // ------------------------------------------------------------------ front-end I/O

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        long t0 = System.nanoTime();
        int len = dst.remaining();
        CompletableFuture<Void> refused = admit("read", offset, len);
        if (refused != null) {
            stats.record(IoStats.Kind.READ, len, 0, false);
            return refused;
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        readFrom(offset, dst, new ArrayList<>(2), result, null);
        return result.whenComplete((v, t) -> stats.record(IoStats.Kind.READ, len, System.nanoTime() - t0, t == null));
    }

    /** I/O counters and latency of this nexus as its users see it (exported as per-nexus metrics). */
    public IoStats stats() {
        return stats;
    }

    /**
     * Reads from one child, and from another when it fails. The caller's buffer is handed back only when no device can
     * still write into it: a read that timed out may land later (a local O_DIRECT read cannot be withdrawn), so while
     * one is outstanding the next attempt reads into a buffer of its own, copied over once the late one has finished.
     *
     * @param earlier completes when every earlier attempt's device is done with {@code dst}; null when there was none
     */
    private void readFrom(long offset, ByteBuffer dst, List<NexusChild> tried, CompletableFuture<Void> result, CompletableFuture<Void> earlier) {
        String fenced = fencedBy;
        if (fenced != null) {
            result.completeExceptionally(new BlockIoException(BlockIoException.EBADE, "read", uri(), offset, dst.remaining(), fenced));
            return;
        }
        NexusChild pick = pickReader(tried);
        if (pick == null) {
            result.completeExceptionally(new BlockIoException(BlockIoException.EIO, "read", uri(), offset, dst.remaining(),
                    "no healthy child left to read from (" + state.reason() + ")"));
            return;
        }
        tried.add(pick);
        ChildIo io = pick.io();
        boolean direct = earlier == null || earlier.isDone();
        ByteBuffer into = direct ? dst : DmaBuffers.allocate(dst.remaining());
        CompletableFuture<Void> deviceDone = new CompletableFuture<>();
        childCall(io, "read", offset, dst.remaining(), d -> d.read(offset, into), () -> deviceDone.complete(null)).whenComplete((v, t) -> {
            if (t == null) {
                if (direct) {
                    result.complete(null);
                } else {
                    earlier.whenComplete((x, y) -> {
                        dst.duplicate().put(into.duplicate());
                        result.complete(null);
                    });
                }
            } else {
                childFailed(pick, io, "read", offset, dst.remaining(), false, t);
                // Only a read into dst can still land in it: an attempt into its own buffer adds nothing to wait for.
                CompletableFuture<Void> pending = direct ? (deviceDone.isDone() ? null : deviceDone) : earlier;
                readFrom(offset, dst, tried, result, pending);
            }
        });
    }

    /** The Online child with the least I/O outstanding, rotating the start so ties are spread. */
    private NexusChild pickReader(List<NexusChild> exclude) {
        NexusChild[] cs = children; // one snapshot: children may change meanwhile
        int n = cs.length;
        if (n == 0) {
            return null;
        }
        int start = Math.floorMod(readCursor.getAndIncrement(), n);
        NexusChild best = null;
        long bestOutstanding = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            NexusChild c = cs[(start + i) % n];
            if (!c.isOnline() || exclude.contains(c)) {
                continue;
            }
            long o = c.io().outstanding();
            if (o < bestOutstanding) {
                best = c;
                bestOutstanding = o;
            }
        }
        return best;
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer src) {
        long t0 = System.nanoTime();
        int len = src.remaining();
        return mirrored("write", IoStats.Kind.WRITE, t0, offset, len, d -> d.write(offset, src.duplicate()));
    }

    /** FUA on every child: durable on each healthy child (with the pool metadata it needed) when it completes. */
    @Override
    public CompletableFuture<Void> writeFua(long offset, ByteBuffer src) {
        long t0 = System.nanoTime();
        int len = src.remaining();
        return mirrored("write", IoStats.Kind.WRITE, t0, offset, len, d -> d.writeFua(offset, src.duplicate()));
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length) {
        long t0 = System.nanoTime();
        return mirrored("write-zeroes", IoStats.Kind.WRITE_ZEROES, t0, offset, length, d -> d.writeZeroes(offset, length));
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        long t0 = System.nanoTime();
        return mirrored("unmap", IoStats.Kind.UNMAP, t0, offset, length, d -> d.unmap(offset, length));
    }

    @Override
    public CompletableFuture<Void> flush() {
        long t0 = System.nanoTime();
        CompletableFuture<Void> refused = admit("flush", 0, 0);
        if (refused != null) {
            stats.record(IoStats.Kind.FLUSH, 0, 0, false);
            return refused;
        }
        return new FanOut("flush", IoStats.Kind.FLUSH, t0, 0, 0, -1, -1, false).start(BlockDevice::flush);
    }

    /** A data-changing I/O: held back while writes are paused, then under shared segment locks to every child that takes writes. */
    private CompletableFuture<Void> mirrored(String op, IoStats.Kind kind, long t0, long offset, long length,
                                             Function<BlockDevice, CompletableFuture<Void>> call) {
        int ticket = writes.admit();
        if (ticket == WriteGate.HELD) {
            return writes.whenOpen().thenCompose(v -> mirrored(op, kind, t0, offset, length, call));
        }
        return mirroredAdmitted(op, kind, t0, offset, length, call).whenComplete((v, t) -> writes.done(ticket));
    }

    private CompletableFuture<Void> mirroredAdmitted(String op, IoStats.Kind kind, long t0, long offset, long length,
                                                     Function<BlockDevice, CompletableFuture<Void>> call) {
        CompletableFuture<Void> refused = admit(op, offset, length);
        if (refused != null) {
            stats.record(kind, length, 0, false);
            return refused;
        }
        long first = locks.firstSegment(offset);
        long last = locks.lastSegment(offset, length);
        CompletableFuture<Void> wait = locks.acquireShared(first, last);
        if (wait == null) {
            return new FanOut(op, kind, t0, offset, length, first, last, true).start(call);
        }
        return wait.thenCompose(v -> new FanOut(op, kind, t0, offset, length, first, last, true).start(call));
    }

    private CompletableFuture<Void> admit(String op, long offset, long length) {
        String fenced = fencedBy;
        if (fenced != null) {
            return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.EBADE, op, uri(), offset, length, fenced));
        }
        NexusState s = state;
        if (s instanceof NexusState.ShuttingDown || s instanceof NexusState.Shutdown) {
            return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.ESHUTDOWN, op, uri(), offset, length,
                    "nexus is " + s.name()));
        }
        if (!op.equals("flush")) {
            try {
                checkRange(op, offset, length);
            } catch (BlockIoException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return null;
    }

    /**
     * One I/O on one child opening, bounded by the I/O timeout. The returned future fails with ETIMEDOUT when the
     * child does not answer in time; the child's own completion, whenever it comes, ends the opening's count.
     */
    CompletableFuture<Void> childCall(ChildIo io, String op, long offset, long length, Function<BlockDevice, CompletableFuture<Void>> call) {
        return childCall(io, op, offset, length, call, null);
    }

    /**
     * As above; {@code deviceDone} runs when the device itself has finished the I/O (also after a timeout failed the
     * returned future): only then may a buffer it reads into or writes from be used again.
     */
    CompletableFuture<Void> childCall(ChildIo io, String op, long offset, long length, Function<BlockDevice, CompletableFuture<Void>> call,
                                      Runnable deviceDone) {
        int counted = io.begin();
        ChildCall c = new ChildCall(io, op, offset, length);
        track(c);
        issue(io, call).whenComplete((v, t) -> {
            io.end(counted);
            deadlines.untrack(c);
            if (deviceDone != null) {
                deviceDone.run();
            }
            if (t == null) {
                c.out.complete(null);
            } else {
                c.out.completeExceptionally(t);
            }
        });
        return c.out;
    }

    /** One child I/O of {@link #childCall}: its result, failed as timed out if the child has not answered by the deadline. */
    private final class ChildCall extends IoDeadlines.Entry {
        final CompletableFuture<Void> out = new CompletableFuture<>();
        private final ChildIo io;
        private final String op;
        private final long offset;
        private final long length;

        ChildCall(ChildIo io, String op, long offset, long length) {
            this.io = io;
            this.op = op;
            this.offset = offset;
            this.length = length;
        }

        @Override
        void expire() {
            out.completeExceptionally(timedOut(io, op, offset, length));
        }
    }

    /**
     * Starts one I/O on a child's opening, which the caller has counted in ({@link ChildIo#begin()}) and counts out when
     * the device answers; a throwing call is a failed I/O.
     */
    private static CompletableFuture<Void> issue(ChildIo io, Function<BlockDevice, CompletableFuture<Void>> call) {
        try {
            return call.apply(io.device);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private BlockIoException timedOut(ChildIo io, String op, long offset, long length) {
        return new BlockIoException(BlockIoException.ETIMEDOUT, op, io.device.uri(), offset, length,
                "no answer within " + options.ioTimeout().toMillis() + " ms");
    }

    /** A data-changing I/O (or flush) sent to every child that takes writes; completes when all have answered. */
    private final class FanOut extends IoDeadlines.Entry {
        private final String op;
        private final IoStats.Kind kind;
        /** When the user asked: the latency in this nexus's stats is what the user saw, lock waits included. */
        private final long t0;
        private final long offset;
        private final long length;
        private final long first;
        private final long last;
        private final boolean locked;
        private final CompletableFuture<Void> result = new CompletableFuture<>();
        private final AtomicInteger onlineDone = new AtomicInteger();
        private AtomicInteger pending;
        /** 1 at index i once child i has answered (completed, failed or timed out). */
        private AtomicIntegerArray answered;
        /** How many children it was sent to (the first entries of the arrays below). */
        private int sent;
        private NexusChild[] targets;
        private ChildIo[] ios;
        private boolean[] wasOnline;
        /** Fault records of the children this I/O skipped or failed on; null (no allocation) while there are none. */
        private List<CompletableFuture<Void>> missedRecords;

        FanOut(String op, IoStats.Kind kind, long t0, long offset, long length, long first, long last, boolean locked) {
            this.op = op;
            this.kind = kind;
            this.t0 = t0;
            this.offset = offset;
            this.length = length;
            this.first = first;
            this.last = last;
            this.locked = locked;
        }

        CompletableFuture<Void> start(Function<BlockDevice, CompletableFuture<Void>> call) {
            // One snapshot for sizing and iterating: a child added in between (a rebuild starting) overran the arrays,
            // the write failed after taking its segment locks, and the rebuild waited for them for ever.
            NexusChild[] cs = children;
            int n = cs.length;
            targets = new NexusChild[n];
            ios = new ChildIo[n];
            wasOnline = new boolean[n];
            int k = 0;
            for (NexusChild c : cs) {
                // A faulted child gets the range in its dirty log instead (flushes need no logging).
                boolean send = locked ? c.routeWrite(first, last) : c.takesWrites();
                if (send) {
                    targets[k] = c;
                    ios[k] = c.io();
                    wasOnline[k] = c.isOnline();
                    k++;
                } else {
                    missed(c);
                }
            }
            if (k == 0) {
                finish();
                return result;
            }
            pending = new AtomicInteger(k);
            answered = new AtomicIntegerArray(k);
            sent = k;
            // One deadline for the whole fan-out rather than one per child: the children start together. A child that
            // has not answered when it passes fails as timed out (expire, below).
            track(this);
            // The children's local submissions enter the kernel together: one io_uring_enter, not one per child.
            try (SubmissionBatch together = SubmissionBatch.open()) {
                for (int i = 0; i < k; i++) {
                    int idx = i;
                    ChildIo io = ios[i];
                    // The device's own completion, whenever it comes (after a timeout too), ends the opening's count.
                    int counted = io.begin();
                    issue(io, call).whenComplete((v, t) -> {
                        // Settled (a failure marked in the child's dirty log) before it is counted out: a re-add
                        // waiting for the old opening to drain must not snapshot the log before the mark is in it.
                        try {
                            answer(idx, t);
                        } finally {
                            io.end(counted);
                        }
                    });
                }
            }
            return result;
        }

        @Override
        void expire() {
            for (int i = 0; i < sent; i++) {
                if (answered.get(i) == 0) {
                    answer(i, timedOut(ios[i], op, offset, length));
                }
            }
        }

        /** The first answer of child {@code i} (its completion or the timeout) settles it; a later one is dropped. */
        private void answer(int i, Throwable t) {
            if (answered.compareAndSet(i, 0, 1)) {
                settle(i, t);
            }
        }

        private void settle(int i, Throwable t) {
            if (t == null) {
                if (wasOnline[i]) {
                    onlineDone.incrementAndGet();
                }
            } else {
                childFailed(targets[i], ios[i], op, offset, length, locked, t);
                missed(targets[i]);
            }
            if (pending.decrementAndGet() == 0) {
                deadlines.untrack(this);
                finish();
            }
        }

        private void finish() {
            if (locked) {
                locks.releaseShared(first, last);
            }
            String fenced = fencedBy;
            if (fenced != null) {
                // A newer target owns the children: what reached some of them is not acknowledged (an unacknowledged write).
                done(new BlockIoException(BlockIoException.EBADE, op, uri(), offset, length, fenced));
            } else if (onlineDone.get() > 0) {
                // A child that missed this I/O must be on record as out of sync before the I/O is acknowledged: its own
                // record, not whichever was last (a concurrent fault may not have put its record anywhere yet).
                CompletableFuture<Void> recorded = missedRecordsAllDone();
                if (recorded.isDone() && !recorded.isCompletedExceptionally()) {
                    done(null);
                } else {
                    recorded.whenComplete((v, t) -> {
                        Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
                        if (cause instanceof TargetSuperseded superseded) {
                            // An old target: fenced, as by Reservation Conflict (hosts retry on their other path).
                            fence("superseded: " + superseded.getMessage());
                            done(new BlockIoException(BlockIoException.EBADE, op, uri(), offset, length, fencedBy));
                        } else {
                            done(t == null ? null : new BlockIoException(BlockIoException.EIO, op, uri(), offset, length,
                                    "a child fault could not be recorded: " + t.getMessage()));
                        }
                    });
                }
            } else {
                updateState();
                done(new BlockIoException(BlockIoException.EIO, op, uri(), offset, length,
                        "no healthy child completed it (" + state.reason() + ")"));
            }
        }

        private synchronized void missed(NexusChild c) {
            if (missedRecords == null) {
                missedRecords = new ArrayList<>(2);
            }
            missedRecords.add(c.faultRecord());
        }

        private synchronized CompletableFuture<Void> missedRecordsAllDone() {
            if (missedRecords == null) {
                return CompletableFuture.completedFuture(null);
            }
            return missedRecords.size() == 1 ? missedRecords.get(0) : CompletableFuture.allOf(missedRecords.toArray(CompletableFuture[]::new));
        }

        /** Counts the I/O in this nexus's stats (one per request, whatever the children did), then answers it. */
        private void done(BlockIoException failure) {
            stats.record(kind, length, System.nanoTime() - t0, failure == null);
            if (failure == null) {
                result.complete(null);
            } else {
                result.completeExceptionally(failure);
            }
        }
    }

    // ------------------------------------------------------------------ faults and state

    /** A child's I/O failed: fault it (logging the range as dirty when it was a write) and retire its opening. */
    void childFailed(NexusChild child, ChildIo io, String op, long offset, long length, boolean dataWrite, Throwable t) {
        BlockIoException b = BlockIoException.unwrap(t);
        if (b != null && b.errno() == BlockIoException.EBADE) {
            fenced(child, op + " at " + offset);
            return; // the child is healthy: it is the nexus that is stale, so no fault goes on record
        }
        String why = op + " at " + offset + " failed: " + (b != null ? "errno " + b.errno() + " " + b.getMessage() : String.valueOf(t));
        ChildState before = dataWrite
                ? child.faultAfterWrite(io, segments, locks.firstSegment(offset), locks.lastSegment(offset, length), why)
                : child.fault(io, segments, why);
        if (before != null) {
            LOG.warn("nexus={} child={} faulted (was {}): {}", uuid, child.uri(), before.name(), why);
            recordFault(child, why);
            retire(io);
            updateState();
        }
    }

    /** Puts the fault on record; until then writes that missed the child hold their acknowledgement (see FanOut.finish). */
    private void recordFault(NexusChild child, String why) {
        CompletableFuture<Void> placeholder = child.faultRecord(); // the one this fault created
        CompletableFuture<Void> recorded = ledger.childFaulted(uuid, child.uri(), why);
        recorded.whenComplete((v, t) -> {
            if (t == null) {
                placeholder.complete(null);
            } else {
                placeholder.completeExceptionally(t);
            }
        });
    }

    private void retire(ChildIo io) {
        io.retire();
        BACKGROUND.execute(() -> closeQuietly(io.device));
    }

    private static void closeQuietly(BlockDevice d) {
        try {
            d.close();
        } catch (RuntimeException e) {
            LOG.warn("closing child device {} failed: {}", d.uri(), e.toString());
        }
    }

    /**
     * A child refused this nexus with Reservation Conflict: a newer target of the volume preempted its key. From now
     * on every I/O fails and nothing is acknowledged; the nexus stays Faulted until it is destroyed.
     */
    private void fenced(NexusChild child, String what) {
        fence("fenced: a newer target of the volume holds child " + child.uri() + " (" + what + " got Reservation Conflict)");
    }

    /** From now on every I/O fails and nothing is acknowledged (a newer target of the volume exists). */
    private void fence(String why) {
        boolean first = false;
        synchronized (admin) {
            if (fencedBy == null) {
                fencedBy = why;
                LOG.error("nexus={} {}; failing every I/O from now on", uuid, fencedBy);
                first = true;
            }
        }
        updateState();
        if (first) {
            fenceListeners.forEach(Runnable::run);
        }
    }

    // ------------------------------------------------------------------ pausing writes (consistent snapshots)

    /**
     * What a pause holds: its id (for the resume), the children that took every write up to it, and when new writes
     * began to be held ({@link System#nanoTime()}; the flush before that let them flow).
     */
    public record WritePause(long id, List<String> onlineChildren, long heldSinceNanos) {
    }

    /**
     * Pauses the nexus's writes for a snapshot of its children that is consistent across them: new writes are held back
     * (they wait; reads go on), writes in flight complete, every child is flushed, and then the pause is reported with
     * the children that are Online (those hold every acknowledged write; a rebuilding or faulted child is not one of
     * them). The pause ends with {@link #resumeWrites} or, if the caller never comes back (a control plane that died),
     * after {@code lease} by itself; {@link #resumeWrites} then answers false and the caller must not trust the snapshots
     * it took. One pause at a time: a second is refused while one is in force.
     */
    public CompletableFuture<WritePause> pauseWrites(Duration lease) {
        if (lease.isZero() || lease.isNegative()) {
            throw EngineException.invalid("lease_ms", "must be positive");
        }
        long id;
        synchronized (admin) {
            if (activePause != 0) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "nexus " + uuid + " writes are already paused (pause "
                        + activePause + ")");
            }
            id = ++pauseSeq;
            activePause = id;
            pauseLease = TIMER.newTimeout(t -> {
                if (endPause(id)) {
                    LOG.warn("nexus={} write pause {} ended by its lease of {} ms: its snapshot is void", uuid, id, lease.toMillis());
                }
            }, lease.toMillis(), TimeUnit.MILLISECONDS);
        }
        // Flush once while writes still flow: the flush under the pause then only has what came in meanwhile, not
        // everything since the last flush (behind a volatile cache, that flush was most of the time writes waited).
        long[] heldSince = new long[1];
        return flush().thenCompose(v -> {
            CompletableFuture<Void> drained;
            synchronized (admin) {
                if (activePause != id) {
                    throw new java.util.concurrent.CompletionException(new EngineException(EngineException.Kind.UNAVAILABLE,
                            "nexus " + uuid + " write pause " + id + " ended by its lease of " + lease.toMillis() + " ms before it began"));
                }
                drained = writes.pause();
                heldSince[0] = System.nanoTime();
            }
            LOG.info("nexus={} writes paused (pause {}, lease {} ms)", uuid, id, lease.toMillis());
            return drained;
        }).thenCompose(v -> flush()).handle((v, t) -> {
            if (t != null) {
                endPause(id);
                throw new java.util.concurrent.CompletionException(t);
            }
            List<String> online = new ArrayList<>();
            for (NexusChild c : children) {
                if (c.isOnline()) {
                    online.add(c.uri());
                }
            }
            return new WritePause(id, online, heldSince[0]);
        });
    }

    /** Ends pause {@code id}: true when it held from its start until now (its lease had not run out). */
    public boolean resumeWrites(long id) {
        boolean held = endPause(id);
        if (held) {
            LOG.info("nexus={} writes resumed (pause {})", uuid, id);
        }
        return held;
    }

    private boolean endPause(long id) {
        Runnable letHeldWritesGo;
        synchronized (admin) {
            if (activePause != id || id == 0) {
                return false;
            }
            activePause = 0;
            pauseLease.cancel();
            letHeldWritesGo = writes.stopHolding();
        }
        // Outside the lock: the held writes start on this thread, and the first ones after a snapshot copy clusters.
        letHeldWritesGo.run();
        return true;
    }

    public boolean writesPaused() {
        return writes.isPaused();
    }

    public boolean isFenced() {
        return fencedBy != null;
    }

    /** Runs {@code r} once this nexus is fenced (at once if it is already). */
    public void onFenced(Runnable r) {
        fenceListeners.add(r);
        if (fencedBy != null) {
            r.run();
        }
    }

    /** The key this nexus fences its children with (the volume's target generation); 0: none. */
    public long reservationKey() {
        return reservationKey;
    }

    void updateState() {
        synchronized (admin) {
            NexusState s = state;
            if (s instanceof NexusState.ShuttingDown || s instanceof NexusState.Shutdown) {
                return;
            }
            if (fencedBy != null) {
                if (!(s instanceof NexusState.Faulted) || !s.reason().equals(fencedBy)) {
                    LOG.info("nexus={} {} -> Faulted: {}", uuid, s.name(), fencedBy);
                    state = new NexusState.Faulted(fencedBy, Instant.now());
                }
                return;
            }
            List<String> notOnline = new ArrayList<>();
            int online = 0;
            for (NexusChild c : children) {
                if (c.isOnline()) {
                    online++;
                } else {
                    notOnline.add(c.uri() + " " + c.state().name() + ": " + c.state().reason());
                }
            }
            NexusState next;
            if (online == 0) {
                next = new NexusState.Faulted("no healthy child" + (notOnline.isEmpty() ? "" : ": " + String.join("; ", notOnline)), Instant.now());
            } else if (!notOnline.isEmpty()) {
                next = new NexusState.Degraded(String.join("; ", notOnline), Instant.now());
            } else {
                next = new NexusState.Online("all " + online + " children online", Instant.now());
            }
            if (next.getClass() != s.getClass() || !next.reason().equals(s.reason())) {
                if (next.getClass() != s.getClass()) {
                    LOG.info("nexus={} {} -> {}: {}", uuid, s.name(), next.name(), next.reason());
                }
                state = next;
            }
        }
    }

    // ------------------------------------------------------------------ children

    /**
     * Adds a child and starts its rebuild, or brings back a faulted one (a partial rebuild of the segments written
     * while it was away, when its dirty log is trustworthy). Idempotent for a child already Online or rebuilding.
     */
    public NexusChild addChild(String uri) {
        return addChild(uri, null);
    }

    /** As above, authenticating to a remote child with {@code keys} (DH-HMAC-CHAP; null: none). */
    public NexusChild addChild(String uri, DhchapKeys keys) {
        synchronized (admin) {
            requireAlive();
            NexusChild existing = child(uri).orElse(null);
            if (existing != null && existing.takesWrites()) {
                return existing;
            }
            if (Arrays.stream(children).noneMatch(NexusChild::isOnline)) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                        "nexus " + uuid + " has no healthy child to rebuild " + uri + " from");
            }
            BlockDevice device = opener.open(uri, "nexus " + uuid, keys);
            try {
                checkGeometry(device, size, blockSize);
                ChildFence.claim(uuid, device, reservationKey);
            } catch (RuntimeException e) {
                closeQuietly(device);
                throw e;
            }
            ChildIo fresh = new ChildIo(device);
            NexusChild child;
            BitSet plan;
            boolean partial;
            if (existing == null) {
                child = new NexusChild(uri, fresh, new ChildState.Degraded("rebuilding (full)", Instant.now()));
                plan = new BitSet();
                plan.set(0, (int) segments);
                partial = false;
                addToChildren(child);
            } else {
                child = existing;
                // Late failures of the old opening still mark the dirty log: wait for them before reading it.
                boolean drained = awaitDrained(existing.io());
                DirtySegmentLog log = existing.dirtyLog();
                // The dirty log only covers writes the child missed while away. If it restarted (its pool re-imported) or
                // another writer had it, it may also lack writes it once acknowledged: only the same instance is trusted.
                String was = existing.io().instance;
                boolean sameInstance = was != null && was.equals(fresh.instance);
                if (!sameInstance) {
                    LOG.info("nexus={} child={}: instance {} -> {}: rebuilding in full", uuid, uri, was, fresh.instance);
                }
                boolean full = !drained || log == null || log.needsFullRebuild() || !sameInstance;
                plan = existing.reopen(fresh, segments, full, full ? "rebuilding (full)" : "rebuilding (partial)");
                partial = !full;
            }
            updateState();
            startRebuild(child, fresh, plan, partial);
            return child;
        }
    }

    private boolean awaitDrained(ChildIo io) {
        try {
            io.retire().get(options.drainTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            LOG.warn("nexus={}: previous opening of {} still has {} I/O in flight; rebuilding it in full",
                    uuid, io.device.uri(), io.outstanding());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.UNAVAILABLE, "interrupted");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private void startRebuild(NexusChild child, ChildIo io, BitSet plan, boolean partial) {
        NexusRebuildJob job = new NexusRebuildJob(this, child, io, plan, partial);
        rebuilds.put(child.uri(), job);
        LOG.info("nexus={} child={}: {} rebuild of {} segments started", uuid, child.uri(), partial ? "partial" : "full",
                plan.cardinality());
        Thread t = new Thread(job, "rebuild-" + uuid.toString().substring(0, 8));
        t.setDaemon(true);
        t.start();
    }

    /** Called by a job when it has finished (all its copies done). */
    void rebuildEnded(NexusRebuildJob job, BitSet notCopied) {
        NexusChild child = job.target();
        RebuildStats stats = job.stats();
        // In the history before anything is reported: the agent reads the history when a report says a rebuild ended.
        synchronized (history) {
            history.add(stats);
            if (history.size() > HISTORY_LIMIT) {
                history.remove(0);
            }
        }
        if (stats.state() == RebuildState.COMPLETED) {
            if (child.markRebuilt(job.targetIo())) {
                LOG.info("nexus={} child={}: rebuild completed, {} blocks", uuid, child.uri(), stats.blocksRecovered());
                ledger.childRebuilt(uuid, child.uri());
            }
        } else {
            ChildState before = child.faultUnfinishedRebuild(job.targetIo(), segments, notCopied, "rebuild " + stats.state().name().toLowerCase()
                    + ": " + stats.reason());
            if (before != null) {
                recordFault(child, "rebuild " + stats.state().name().toLowerCase());
                retire(job.targetIo());
            }
            LOG.warn("nexus={} child={}: rebuild {}: {}", uuid, child.uri(), stats.state(), stats.reason());
        }
        rebuilds.remove(child.uri(), job);
        updateState();
    }

    /** The child a rebuild copies from: an Online one other than the target, local replicas first (they know what is allocated). */
    NexusChild rebuildSource(NexusChild target, List<NexusChild> exclude) {
        NexusChild best = null;
        for (NexusChild c : children) {
            if (c == target || !c.isOnline() || exclude.contains(c)) {
                continue;
            }
            if (best == null || (c.io().device instanceof Replica && !(best.io().device instanceof Replica))) {
                best = c;
            }
        }
        return best;
    }

    /** Removes a child (cancelling its rebuild). Refused when it is the last Online child of a nexus with I/O to serve. */
    public void removeChild(String uri) {
        NexusRebuildJob job;
        NexusChild child;
        synchronized (admin) {
            child = child(uri).orElse(null);
            if (child == null) {
                return;
            }
            if (child.isOnline() && Arrays.stream(children).filter(NexusChild::isOnline).count() == 1 && children.length > 1) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                        "child " + uri + " is the last healthy child of nexus " + uuid);
            }
            job = rebuilds.get(uri);
        }
        if (job != null) {
            job.cancel("child removed");
            job.awaitEnd();
        }
        synchronized (admin) {
            removeFromChildren(child);
            ChildIo io = child.io();
            if (!io.retired()) {
                retire(io);
            }
            LOG.info("nexus={} child={} removed", uuid, uri);
            updateState();
        }
    }

    /** Faults a child on request (it keeps a dirty log for a later partial rebuild). */
    public NexusChild faultChild(String uri, String reason) {
        synchronized (admin) {
            NexusChild child = child(uri).orElseThrow(() -> EngineException.notFound("child " + uri + " of nexus " + uuid));
            if (child.isOnline() && Arrays.stream(children).filter(NexusChild::isOnline).count() == 1) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION,
                        "child " + uri + " is the last healthy child of nexus " + uuid);
            }
            ChildIo io = child.io();
            ChildState before = child.fault(io, segments, reason.isEmpty() ? "faulted by request" : reason);
            if (before != null) {
                LOG.warn("nexus={} child={} faulted by request: {}", uuid, uri, reason);
                recordFault(child, reason.isEmpty() ? "faulted by request" : reason);
                retire(io);
            }
            updateState();
            return child;
        }
    }

    /**
     * Grows the nexus to {@code newSize} bytes; true when it grew, false when it already had that size.
     *
     * <p>The Mayastor way: the control plane grows every replica first (ResizeReplica), then the nexus. Every child
     * that takes writes must hold at least {@code newSize} bytes: a remote child is asked again (Identify Namespace)
     * rather than trusted from its connect time. A faulted child is not checked now; re-adding it checks it against
     * the new size. Refused while a rebuild runs: its plan covers the old segments, and growing under a copy is a
     * state no test exercises; the caller retries when it has ended. The grown range reads as zeroes on every child
     * (a grown replica's new clusters are zeroed or unallocated), so no child needs a rebuild for it.
     */
    public boolean resize(long newSize) {
        synchronized (admin) {
            requireAlive();
            if (newSize <= 0 || newSize % blockSize != 0) {
                throw EngineException.invalid("requested_size", "must be a positive multiple of the block size " + blockSize + ", got " + newSize);
            }
            if (newSize == size) {
                return false;
            }
            if (newSize < size) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "requested_size: " + newSize
                        + " is smaller than nexus " + uuid + "'s size " + size + "; a nexus only grows");
            }
            if (!rebuilds.isEmpty()) {
                throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "nexus " + uuid + ": rebuild of "
                        + String.join(", ", rebuilds.keySet()) + " is running; resize after it has ended");
            }
            for (NexusChild c : children) {
                if (!c.takesWrites()) {
                    continue;
                }
                long has;
                try {
                    has = c.io().device.refreshSize();
                } catch (RuntimeException e) {
                    throw new EngineException(EngineException.Kind.UNAVAILABLE, "nexus " + uuid + ": cannot read the size of child "
                            + c.uri() + ": " + e.getMessage(), e);
                }
                if (has < newSize) {
                    throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "nexus " + uuid + ": child " + c.uri()
                            + " has " + has + " bytes, less than the requested " + newSize + "; resize its replica first");
                }
            }
            long newSegments = (newSize + options.segmentSize() - 1) / options.segmentSize();
            for (NexusChild c : children) {
                c.grow(newSegments);
            }
            long old = size;
            segments = newSegments;
            size = newSize;
            LOG.info("nexus={} resized from {} to {} bytes", uuid, old, newSize);
            return true;
        }
    }

    private void requireAlive() {
        NexusState s = state;
        if (s instanceof NexusState.ShuttingDown || s instanceof NexusState.Shutdown) {
            throw new EngineException(EngineException.Kind.FAILED_PRECONDITION, "nexus " + uuid + " is " + s.name());
        }
    }

    // ------------------------------------------------------------------ rebuild control

    public Optional<NexusRebuildJob> rebuild(String childUri) {
        return Optional.ofNullable(rebuilds.get(childUri));
    }

    public Collection<NexusRebuildJob> rebuilds() {
        return List.copyOf(rebuilds.values());
    }

    public List<RebuildStats> rebuildHistory() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops rebuilds, waits (bounded) for I/O in flight, flushes every child that takes writes, closes every child's
     * device. A clean shutdown (see {@link #shutdownClean()}) means every child not on record as faulted holds the same,
     * durable data: a child that does not drain or flush in time is faulted and its fault recorded first.
     */
    public void destroy() {
        synchronized (admin) {
            if (state instanceof NexusState.ShuttingDown || state instanceof NexusState.Shutdown) {
                return;
            }
            state = new NexusState.ShuttingDown("destroy requested", Instant.now());
            endPause(activePause); // writes held by a pause go on to be refused, not to wait forever
        }
        // A shutdown must finish: a rebuild whose copies cannot complete (a hung child) is left behind, not waited for.
        java.time.Duration rebuildGrace = options.ioTimeout().plus(options.drainTimeout());
        for (NexusRebuildJob job : rebuilds.values()) {
            job.cancel("nexus shutting down");
            if (!job.awaitEnd(rebuildGrace)) {
                LOG.warn("nexus={} rebuild of {} did not stop within {}; shutting down without it", uuid, job.stats().childUri(), rebuildGrace);
            }
        }
        long deadline = System.nanoTime() + options.ioTimeout().toNanos() + 1_000_000_000L;
        List<NexusChild> writers = new ArrayList<>();
        for (NexusChild c : children) {
            ChildIo io = c.io();
            boolean takesWrites = c.takesWrites();
            try {
                io.retire().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (takesWrites) {
                    writers.add(c);
                }
            } catch (TimeoutException e) {
                LOG.warn("nexus={} child={}: I/O still in flight at shutdown", uuid, c.uri());
                childFailed(c, io, "shutdown drain", 0, 0, false, new BlockIoException(BlockIoException.ETIMEDOUT, "drain", c.uri(), 0, 0,
                        "I/O still in flight at shutdown"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }
        // Clean means durable: the children hold the same data only once each has flushed it.
        List<CompletableFuture<Void>> flushes = new ArrayList<>();
        for (NexusChild c : writers) {
            ChildIo io = c.io();
            flushes.add(childCall(io, "shutdown flush", 0, 0, BlockDevice::flush).handle((v, t) -> {
                if (t != null) {
                    childFailed(c, io, "shutdown flush", 0, 0, false, t);
                }
                return null;
            }));
        }
        boolean clean = true;
        try {
            CompletableFuture.allOf(flushes.toArray(CompletableFuture[]::new)).get(options.ioTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            CompletableFuture.allOf(Arrays.stream(children).map(NexusChild::faultRecord).toArray(CompletableFuture[]::new))
                    .get(options.ioTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            clean = false;
            LOG.error("nexus={}: a child that did not flush could not be put on record ({}); the shutdown is not clean", uuid, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            clean = false;
        }
        shutdownClean = clean;
        // Writes still waiting for a fault to be recorded are not acknowledged now: they fail.
        ledger.nexusGone(uuid);
        for (NexusChild c : children) {
            closeQuietly(c.io().device);
        }
        synchronized (admin) {
            state = new NexusState.Shutdown("destroyed", Instant.now());
        }
        LOG.info("nexus={} shut down ({})", uuid, clean ? "clean: every child in sync was flushed" : "not clean");
    }

    /** After {@link #destroy()}: whether every child not on record as faulted was flushed (its data is the same, and durable). */
    public boolean shutdownClean() {
        return shutdownClean;
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        return "Nexus[" + uuid + " " + state.name() + " " + Arrays.toString(children) + "]";
    }
}
