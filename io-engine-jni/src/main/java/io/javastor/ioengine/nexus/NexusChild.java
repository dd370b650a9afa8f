package io.javastor.ioengine.nexus;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A child of a nexus: a replica by URI ({@code bdev:///uuid} local, {@code nvmf://host:port/nqn} remote),
 * its state, its current device opening, and while it is away, the segments written meanwhile.
 * State changes and dirty marking happen under this object's monitor, so a write either reaches the
 * child or is logged as dirty for it, never neither.
 */
public final class NexusChild {
    private final String uri;
    private volatile ChildIo io;
    private volatile ChildState state;
    /** Guarded by this; non-null from the first fault until the child is rebuilt. */
    private DirtySegmentLog dirty;
    /**
     * Completes when this child's latest fault is on record (ChildHealthLedger). Created with the fault, under this
     * monitor, so a write that sees the child Faulted and skips it always finds the record it must wait for.
     */
    private volatile CompletableFuture<Void> faultRecord = CompletableFuture.completedFuture(null);

    NexusChild(String uri, ChildIo io, ChildState state) {
        this.uri = uri;
        this.io = io;
        this.state = state;
    }

    public String uri() {
        return uri;
    }

    public ChildState state() {
        return state;
    }

    ChildIo io() {
        return io;
    }

    /** See {@link #faultRecord}: a write acknowledged without this child waits for it. */
    CompletableFuture<Void> faultRecord() {
        return faultRecord;
    }

    boolean isOnline() {
        return state instanceof ChildState.Online;
    }

    boolean takesWrites() {
        return !(state instanceof ChildState.Faulted);
    }

    /** The number of segments a partial rebuild would copy now (0 when not faulted). */
    public synchronized long dirtySegments() {
        return dirty == null ? 0 : dirty.dirtySegments();
    }

    synchronized DirtySegmentLog dirtyLog() {
        return dirty;
    }

    /**
     * Routes one write: true when it must be sent to {@code io} (the child takes writes), false when the
     * child is faulted and the range was logged as dirty instead.
     */
    boolean routeWrite(long firstSegment, long lastSegment) {
        if (!(state instanceof ChildState.Faulted)) {
            return true; // fast path; a write racing with a fault is either sent (and fails or lands) or logged below
        }
        synchronized (this) {
            if (!(state instanceof ChildState.Faulted)) {
                return true;
            }
            if (dirty != null) {
                dirty.mark(firstSegment, lastSegment);
            }
            return false;
        }
    }

    /**
     * A write to this child's opening {@code from} failed: log its range as dirty and fault the child
     * (if {@code from} is still its current opening). Returns the state before, or null when nothing changed.
     */
    synchronized ChildState faultAfterWrite(ChildIo from, long segments, long firstSegment, long lastSegment, String reason) {
        ensureLog(segments);
        dirty.mark(firstSegment, lastSegment);
        return fault(from, segments, reason);
    }

    /** Faults the child if {@code from} is its current opening; returns the previous state or null if already faulted / stale. */
    synchronized ChildState fault(ChildIo from, long segments, String reason) {
        if (from != io || state instanceof ChildState.Faulted) {
            return null;
        }
        ensureLog(segments);
        ChildState before = state;
        if (before instanceof ChildState.Degraded) {
            dirty.markFull(); // it was being rebuilt: whatever was not copied yet is missing too
        }
        state = new ChildState.Faulted(reason, Instant.now());
        faultRecord = new CompletableFuture<>();
        return before;
    }

    /** The nexus grew to {@code segments}: a dirty log kept while away covers them. */
    synchronized void grow(long segments) {
        if (dirty != null) {
            dirty.grow(segments);
        }
    }

    private void ensureLog(long segments) {
        if (dirty == null) {
            dirty = new DirtySegmentLog(segments);
        }
    }

    /**
     * Brings a faulted child back on a new opening, in state Degraded (rebuilding): from here on writes are
     * sent to it. Returns the segments it missed (all of them when {@code full}).
     */
    synchronized java.util.BitSet reopen(ChildIo fresh, long segments, boolean full, String reason) {
        ensureLog(segments);
        if (full) {
            dirty.markFull();
        }
        java.util.BitSet missed = dirty.snapshot();
        io = fresh;
        state = new ChildState.Degraded(reason, Instant.now());
        return missed;
    }

    /**
     * A rebuild of opening {@code of} ended without completing: fault the child with exactly the segments it did not
     * copy as dirty (writes since the re-add reached the child, so those are all it misses).
     */
    synchronized ChildState faultUnfinishedRebuild(ChildIo of, long segments, java.util.BitSet notCopied, String reason) {
        if (of != io || !(state instanceof ChildState.Degraded)) {
            return null; // faulted meanwhile by a failed write: its log already says "full"
        }
        DirtySegmentLog log = new DirtySegmentLog(segments);
        for (int s = notCopied.nextSetBit(0); s >= 0; s = notCopied.nextSetBit(s + 1)) {
            log.mark(s, s);
        }
        dirty = log;
        ChildState before = state;
        state = new ChildState.Faulted(reason, Instant.now());
        faultRecord = new CompletableFuture<>();
        return before;
    }

    /** The rebuild of opening {@code of} finished: Online, unless it faulted meanwhile. */
    synchronized boolean markRebuilt(ChildIo of) {
        if (of != io || !(state instanceof ChildState.Degraded)) {
            return false;
        }
        dirty = null;
        state = new ChildState.Online("rebuilt", Instant.now());
        return true;
    }

    @Override
    public String toString() {
        return uri + " " + state.name();
    }
}
