package io.javastor.ioengine.nexus;

import io.netty.util.collection.LongObjectHashMap;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Per-segment locks between front-end writes (shared) and the rebuild's copy of a segment (exclusive).
 *
 * <p>Why: a rebuild reads a segment from a healthy child and writes it to the new one. A front-end write
 * landing between that read and that write would be overwritten with stale data on the new child, so
 * the copy holds the segment exclusively and writes to it wait (and the copy waits for writes in flight).
 * A queued exclusive request blocks new shared ones, so a busy segment cannot starve the rebuild.
 *
 * <p>Asynchronous: acquiring returns {@code null} when granted at once (the hot path allocates nothing
 * but the entry: segment numbers are not boxed, and the waiter queues are made only when someone waits) or a
 * future completed when granted. Deadlock-free because an exclusive holder
 * (a rebuild copying one segment) never waits for anything else while holding it.
 */
final class SegmentLocks {
    private static final int STRIPES = 64;

    private static final class Entry {
        int shared;
        boolean exclusive;
        /** Made when the first writer waits, as {@link #exclusiveWaiters} when the first copy does: a write that waits for nothing makes neither. */
        ArrayDeque<CompletableFuture<Void>> sharedWaiters;
        ArrayDeque<CompletableFuture<Void>> exclusiveWaiters;

        boolean idle() {
            return shared == 0 && !exclusive && !hasSharedWaiters() && !hasExclusiveWaiters();
        }

        boolean hasSharedWaiters() {
            return sharedWaiters != null && !sharedWaiters.isEmpty();
        }

        boolean hasExclusiveWaiters() {
            return exclusiveWaiters != null && !exclusiveWaiters.isEmpty();
        }

        CompletableFuture<Void> waitShared() {
            return waitOn(sharedWaiters == null ? (sharedWaiters = new ArrayDeque<>(2)) : sharedWaiters);
        }

        CompletableFuture<Void> waitExclusive() {
            return waitOn(exclusiveWaiters == null ? (exclusiveWaiters = new ArrayDeque<>(2)) : exclusiveWaiters);
        }

        /** A new waiter at the back of {@code queue}. */
        private static CompletableFuture<Void> waitOn(ArrayDeque<CompletableFuture<Void>> queue) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            queue.add(f);
            return f;
        }
    }

    private final int segmentShift;
    @SuppressWarnings("unchecked")
    private final LongObjectHashMap<Entry>[] stripes = new LongObjectHashMap[STRIPES];

    SegmentLocks(int segmentSize) {
        if (Integer.bitCount(segmentSize) != 1) {
            throw new IllegalArgumentException("segment size must be a power of two: " + segmentSize);
        }
        this.segmentShift = Integer.numberOfTrailingZeros(segmentSize);
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new LongObjectHashMap<>();
        }
    }

    long firstSegment(long offset) {
        return offset >>> segmentShift;
    }

    long lastSegment(long offset, long length) {
        return (offset + Math.max(length, 1) - 1) >>> segmentShift;
    }

    private LongObjectHashMap<Entry> stripe(long segment) {
        return stripes[(int) (segment & (STRIPES - 1))];
    }

    /** Shared hold on segments first..last (in order); null when granted now. */
    CompletableFuture<Void> acquireShared(long first, long last) {
        for (long s = first; s <= last; s++) {
            CompletableFuture<Void> wait = sharedOne(s);
            if (wait != null) {
                long next = s + 1;
                return wait.thenCompose(v -> {
                    CompletableFuture<Void> rest = next > last ? null : acquireShared(next, last);
                    return rest == null ? CompletableFuture.completedFuture(null) : rest;
                });
            }
        }
        return null;
    }

    private CompletableFuture<Void> sharedOne(long segment) {
        LongObjectHashMap<Entry> m = stripe(segment);
        synchronized (m) {
            Entry e = m.get(segment);
            if (e == null) {
                e = new Entry();
                m.put(segment, e);
            }
            if (!e.exclusive && !e.hasExclusiveWaiters()) {
                e.shared++;
                return null;
            }
            return e.waitShared();
        }
    }

    void releaseShared(long first, long last) {
        for (long s = first; s <= last; s++) {
            CompletableFuture<Void> grant = null;
            LongObjectHashMap<Entry> m = stripe(s);
            synchronized (m) {
                Entry e = m.get(s);
                if (e == null || e.shared == 0) {
                    throw new IllegalStateException("segment " + s + " released without a shared hold");
                }
                if (--e.shared == 0) {
                    if (e.hasExclusiveWaiters()) {
                        e.exclusive = true;
                        grant = e.exclusiveWaiters.poll();
                    } else if (e.idle()) {
                        m.remove(s);
                    }
                }
            }
            if (grant != null) {
                grant.complete(null);
            }
        }
    }

    /** Exclusive hold on one segment; the future completes when granted. */
    CompletableFuture<Void> acquireExclusive(long segment) {
        LongObjectHashMap<Entry> m = stripe(segment);
        synchronized (m) {
            Entry e = m.get(segment);
            if (e == null) {
                e = new Entry();
                m.put(segment, e);
            }
            if (e.shared == 0 && !e.exclusive) {
                e.exclusive = true;
                return CompletableFuture.completedFuture(null);
            }
            return e.waitExclusive();
        }
    }

    void releaseExclusive(long segment) {
        List<CompletableFuture<Void>> grants = new ArrayList<>(2);
        LongObjectHashMap<Entry> m = stripe(segment);
        synchronized (m) {
            Entry e = m.get(segment);
            if (e == null || !e.exclusive) {
                throw new IllegalStateException("segment " + segment + " released without an exclusive hold");
            }
            e.exclusive = false;
            if (e.hasSharedWaiters()) {
                // Writers waited behind the copy: let them all in before the next copy of this segment.
                e.shared += e.sharedWaiters.size();
                grants.addAll(e.sharedWaiters);
                e.sharedWaiters.clear();
            } else if (e.hasExclusiveWaiters()) {
                e.exclusive = true;
                grants.add(e.exclusiveWaiters.poll());
            } else {
                m.remove(segment);
            }
        }
        grants.forEach(g -> g.complete(null));
    }

    /** Segments with a hold or a waiter (tests: nothing leaks). */
    int activeSegments() {
        int n = 0;
        for (LongObjectHashMap<Entry> m : stripes) {
            synchronized (m) {
                n += m.size();
            }
        }
        return n;
    }
}
