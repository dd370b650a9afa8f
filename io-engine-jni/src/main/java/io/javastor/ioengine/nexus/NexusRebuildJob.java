package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.replica.Replica;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Copies the planned segments of a nexus from an Online child to a child being rebuilt, while the nexus serves I/O.
 *
 * <p>Each segment is copied under its exclusive {@link SegmentLocks} hold, so a front-end write to it either finished
 * before the copy read it (and is in the copy) or starts after the copy wrote it (and goes to the target itself, which
 * takes writes while Degraded). Several segments are in flight at once ({@link NexusOptions#rebuildConcurrency()}).
 * A thin local source tells which clusters were never written: those segments are zeroed on the target instead.
 */
public final class NexusRebuildJob implements Runnable {
    private final Nexus nexus;
    private final NexusChild target;
    private final ChildIo targetIo;
    private final BitSet plan;
    private final boolean partial;
    private final long blocksTotal;
    private final AtomicLong blocksRecovered = new AtomicLong();
    private final BitSet copied = new BitSet();
    private final Instant start = Instant.now();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final ArrayBlockingQueue<ByteBuffer> buffers;
    private volatile RebuildState state = RebuildState.RUNNING;
    private volatile String reason = "";
    private volatile String sourceUri = "";
    private volatile Instant end;
    private volatile boolean cancelled;

    NexusRebuildJob(Nexus nexus, NexusChild target, ChildIo targetIo, BitSet plan, boolean partial) {
        this.nexus = nexus;
        this.target = target;
        this.targetIo = targetIo;
        this.plan = plan;
        this.partial = partial;
        long blocks = 0;
        for (int s = plan.nextSetBit(0); s >= 0; s = plan.nextSetBit(s + 1)) {
            blocks += segmentLength(s) / nexus.blockSize();
        }
        this.blocksTotal = blocks;
        int n = nexus.options().rebuildConcurrency();
        this.buffers = new ArrayBlockingQueue<>(n);
        for (int i = 0; i < n; i++) {
            buffers.add(DmaBuffers.allocate(nexus.options().segmentSize()));
        }
    }

    NexusChild target() {
        return target;
    }

    ChildIo targetIo() {
        return targetIo;
    }

    public String childUri() {
        return target.uri();
    }

    public RebuildStats stats() {
        return new RebuildStats(target.uri(), sourceUri, state, partial, blocksTotal, blocksRecovered.get(), nexus.blockSize(),
                start, end, reason);
    }

    private long segmentLength(long s) {
        long off = s * nexus.options().segmentSize();
        return Math.min(nexus.options().segmentSize(), nexus.size() - off);
    }

    public synchronized void pause() {
        if (state == RebuildState.RUNNING) {
            state = RebuildState.PAUSED;
        }
    }

    public synchronized void resume() {
        if (state == RebuildState.PAUSED) {
            state = RebuildState.RUNNING;
            notifyAll();
        }
    }

    public synchronized void cancel(String why) {
        if (!state.finished() && !cancelled) {
            cancelled = true;
            reason = why;
            notifyAll();
        }
    }

    /** Blocks until the job has finished (its last copy done and the child's state updated). */
    public void awaitEnd() {
        try {
            ended.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** As {@link #awaitEnd()}, bounded; false when the job had not ended in time. */
    public boolean awaitEnd(java.time.Duration max) {
        try {
            return ended.await(max.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits while paused; false when cancelled. */
    private synchronized boolean mayContinue() throws InterruptedException {
        while (state == RebuildState.PAUSED && !cancelled) {
            wait();
        }
        return !cancelled;
    }

    @Override
    public void run() {
        int window = nexus.options().rebuildConcurrency();
        Semaphore slots = new Semaphore(window);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            for (int s = plan.nextSetBit(0); s >= 0; s = plan.nextSetBit(s + 1)) {
                if (!mayContinue() || failure.get() != null) {
                    break;
                }
                if (target.io() != targetIo || !target.takesWrites()) {
                    failure.compareAndSet(null, new IllegalStateException("the child faulted: " + target.state().reason()));
                    break;
                }
                slots.acquire();
                int seg = s;
                copySegment(seg, new ArrayList<>(2)).whenComplete((v, t) -> {
                    if (t != null) {
                        failure.compareAndSet(null, t);
                    } else {
                        synchronized (copied) {
                            copied.set(seg);
                        }
                        blocksRecovered.addAndGet(segmentLength(seg) / nexus.blockSize());
                    }
                    slots.release();
                });
            }
            slots.acquire(window);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure.compareAndSet(null, e);
        }
        BitSet notCopied = (BitSet) plan.clone();
        synchronized (copied) {
            notCopied.andNot(copied);
        }
        if (failure.get() == null && notCopied.isEmpty()) {
            // In sync means durable: the copies may sit in the child's volatile cache (or its pool's uncommitted
            // allocations) until a flush. Only a completed flush lets the child be reported in sync.
            try {
                nexus.childCall(targetIo, "rebuild flush", 0, 0, BlockDevice::flush).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.compareAndSet(null, e);
            } catch (java.util.concurrent.ExecutionException e) {
                nexus.childFailed(target, targetIo, "rebuild flush", 0, 0, false, e.getCause());
                failure.compareAndSet(null, e.getCause());
            }
        }
        synchronized (this) {
            Throwable t = failure.get();
            if (t != null) {
                state = RebuildState.FAILED;
                BlockIoException b = BlockIoException.unwrap(t);
                reason = b != null ? b.getMessage() : String.valueOf(t.getMessage());
            } else if (cancelled && !notCopied.isEmpty()) {
                state = RebuildState.CANCELLED;
            } else {
                state = RebuildState.COMPLETED;
                reason = "";
            }
            end = Instant.now();
        }
        try {
            nexus.rebuildEnded(this, notCopied);
        } finally {
            ended.countDown();
        }
    }

    /** Copies one segment under its exclusive lock, from an Online child; a failing source is faulted and another tried. */
    private CompletableFuture<Void> copySegment(int seg, List<NexusChild> triedSources) {
        SegmentLocks locks = nexus.locks();
        return locks.acquireExclusive(seg)
                .thenCompose(v -> copyLocked(seg, triedSources))
                .whenComplete((v, t) -> locks.releaseExclusive(seg));
    }

    private CompletableFuture<Void> copyLocked(int seg, List<NexusChild> triedSources) {
        long off = (long) seg * nexus.options().segmentSize();
        int len = (int) segmentLength(seg);
        NexusChild source = nexus.rebuildSource(target, triedSources);
        if (source == null) {
            return CompletableFuture.failedFuture(new BlockIoException(BlockIoException.EIO, "rebuild", target.uri(), off, len,
                    "no healthy child left to copy from"));
        }
        ChildIo sourceIo = source.io();
        sourceUri = source.uri();
        if (!partial && sourceIo.device instanceof Replica r && r.thin() && !anyAllocated(r, off, len)) {
            // Never written on the source: it reads as zeroes, make the target do the same without moving data.
            return nexus.childCall(targetIo, "rebuild write-zeroes", off, len, d -> d.writeZeroes(off, len))
                    .whenComplete((v, t) -> {
                        if (t != null) {
                            nexus.childFailed(target, targetIo, "rebuild write-zeroes", off, len, true, t);
                        }
                    });
        }
        CopyBuffer buf = takeBuffer();
        ByteBuffer slice = buf.bytes.duplicate().clear().limit(len);
        CompletableFuture<Void> result = new CompletableFuture<>();
        buf.retain();
        nexus.childCall(sourceIo, "rebuild read", off, len, d -> d.read(off, slice.duplicate()), buf::release).whenComplete((v, t) -> {
            if (t != null) {
                buf.release(); // the timed-out read may still land in it: it returns to the pool when the device is done
                nexus.childFailed(source, sourceIo, "rebuild read", off, len, false, t);
                triedSources.add(source);
                copyLocked(seg, triedSources).whenComplete((v2, t2) -> complete(result, t2));
                return;
            }
            buf.retain();
            nexus.childCall(targetIo, "rebuild write", off, len, d -> d.write(off, slice.duplicate()), buf::release).whenComplete((v2, t2) -> {
                buf.release();
                if (t2 != null) {
                    nexus.childFailed(target, targetIo, "rebuild write", off, len, true, t2);
                }
                complete(result, t2);
            });
        });
        return result;
    }

    /**
     * A copy buffer and who uses it: the copy itself and each device I/O on it, until the device has finished (a
     * timed-out I/O may still read or fill it later). Back in the pool only when nobody does; a copy that finds the
     * pool empty (buffers held by such late I/O) gets a new one.
     */
    private final class CopyBuffer {
        final ByteBuffer bytes;
        private final AtomicInteger users = new AtomicInteger(1);

        CopyBuffer(ByteBuffer bytes) {
            this.bytes = bytes;
        }

        void retain() {
            users.incrementAndGet();
        }

        void release() {
            if (users.decrementAndGet() == 0) {
                buffers.offer(bytes);
            }
        }
    }

    private CopyBuffer takeBuffer() {
        ByteBuffer b = buffers.poll();
        return new CopyBuffer(b != null ? b : DmaBuffers.allocate(nexus.options().segmentSize()));
    }

    private static void complete(CompletableFuture<Void> f, Throwable t) {
        if (t == null) {
            f.complete(null);
        } else {
            f.completeExceptionally(t);
        }
    }

    private static boolean anyAllocated(Replica r, long off, long len) {
        long cluster = r.pool().layout().clusterSize();
        for (long o = off - off % cluster; o < off + len; o += cluster) {
            if (r.isAllocated(o)) {
                return true;
            }
        }
        return false;
    }
}
