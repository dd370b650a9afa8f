package io.javastor.ioengine.nexus;

import java.util.BitSet;

/**
 * The segments written while a child was away (faulted), so that when it comes back only those are copied
 * (a partial rebuild). {@link #needsFullRebuild()} when the child's contents cannot be trusted beyond the
 * log: it faulted while it was itself being rebuilt.
 */
final class DirtySegmentLog {
    private long segments;
    private final BitSet dirty = new BitSet();
    private boolean full;

    DirtySegmentLog(long segments) {
        this.segments = segments;
    }

    synchronized void mark(long firstSegment, long lastSegment) {
        dirty.set((int) firstSegment, (int) lastSegment + 1);
    }

    /** The nexus grew: a full rebuild covers the new segments too (writes to them are marked as they come). */
    synchronized void grow(long newSegments) {
        segments = Math.max(segments, newSegments);
    }

    synchronized void markFull() {
        full = true;
    }

    synchronized boolean needsFullRebuild() {
        return full;
    }

    synchronized long dirtySegments() {
        return full ? segments : dirty.cardinality();
    }

    /** The segments to copy: all of them when a full rebuild is needed. */
    synchronized BitSet snapshot() {
        if (full) {
            BitSet all = new BitSet();
            all.set(0, (int) segments);
            return all;
        }
        return (BitSet) dirty.clone();
    }
}
