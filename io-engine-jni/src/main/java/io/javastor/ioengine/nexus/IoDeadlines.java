package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.InFlightCount;

import java.util.ArrayList;
import java.util.List;

/**
 * A nexus's child I/Os in flight with their deadlines, which a periodic {@link #sweep(long)} enforces: an I/O not
 * finished by its deadline is {@link Entry#expire() expired} (the nexus fails it as timed out and faults the child), so
 * a hung child cannot hang the nexus.
 *
 * <p>Why not a timer entry per I/O: scheduling and cancelling one (Netty's wheel) went through two queues and a counter
 * that every I/O thread shares, and the wheel's thread then filed and removed each entry: a tenth of a nexus write's
 * CPU. Here an I/O is linked into, and out of, a list of its own thread's stripe under that stripe's lock, which only
 * the sweep ever shares with it. The deadline is read with the clock inside the lock, so each list is in deadline
 * order and a sweep stops at the first entry still in time.
 */
final class IoDeadlines {
    /** One I/O in flight: linked in one stripe's list from {@link #track} until {@link #untrack} or expiry. */
    abstract static class Entry {
        private Entry prev;
        private Entry next;
        /** The stripe whose list holds it; -1 when in none. Written under that stripe's lock. */
        private int stripe = -1;
        private long deadline;

        /** The deadline passed with the I/O in flight: fail it. Runs on the sweeping thread, outside every lock. */
        abstract void expire();
    }

    /** One list and its lock; padded so two stripes' heads never share a cache line. */
    @SuppressWarnings("unused")
    private static final class Stripe {
        private long p0, p1, p2, p3, p4, p5, p6;
        Entry head;
        Entry tail;
        private long q0, q1, q2, q3, q4, q5, q6;
    }

    private static final int STRIPES = InFlightCount.STRIPES;

    private final Stripe[] stripes = new Stripe[STRIPES];
    private final long timeoutNanos;

    IoDeadlines(long timeoutNanos) {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeout must be positive: " + timeoutNanos);
        }
        this.timeoutNanos = timeoutNanos;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    /** Puts an I/O on record, due one timeout from now. Each entry is tracked once. */
    void track(Entry e) {
        int s = InFlightCount.stripeOfCurrentThread();
        Stripe st = stripes[s];
        synchronized (st) {
            if (e.stripe != -1) {
                throw new IllegalStateException("an I/O is tracked once");
            }
            e.deadline = System.nanoTime() + timeoutNanos;
            e.stripe = s;
            e.prev = st.tail;
            if (st.tail == null) {
                st.head = e;
            } else {
                st.tail.next = e;
            }
            st.tail = e;
        }
    }

    /**
     * Takes a finished I/O off the record (whichever thread finished it); nothing when it is off already (expired). The
     * stripe read outside the lock is only a hint: the lock's holder decides.
     */
    void untrack(Entry e) {
        int s = e.stripe;
        if (s < 0) {
            return;
        }
        Stripe st = stripes[s];
        synchronized (st) {
            if (e.stripe == s) {
                unlink(st, e);
            }
        }
    }

    private static void unlink(Stripe st, Entry e) {
        if (e.prev == null) {
            st.head = e.next;
        } else {
            e.prev.next = e.next;
        }
        if (e.next == null) {
            st.tail = e.prev;
        } else {
            e.next.prev = e.prev;
        }
        e.prev = null;
        e.next = null;
        e.stripe = -1;
    }

    /** Expires every I/O whose deadline is at or before {@code now}; returns how many. */
    int sweep(long now) {
        List<Entry> due = null;
        for (Stripe st : stripes) {
            synchronized (st) {
                for (Entry e = st.head; e != null && e.deadline - now <= 0; e = st.head) {
                    unlink(st, e);
                    if (due == null) {
                        due = new ArrayList<>();
                    }
                    due.add(e);
                }
            }
        }
        if (due == null) {
            return 0;
        }
        Throwable failed = null;
        for (Entry e : due) {
            try {
                e.expire();
            } catch (Throwable x) {
                // The others still expire (they are off the lists already); the first failure is reported after them.
                if (failed == null) {
                    failed = x;
                }
            }
        }
        if (failed instanceof Error err) {
            throw err;
        }
        if (failed != null) {
            throw (RuntimeException) failed;
        }
        return due.size();
    }

    /** Whether no I/O is on record (tests; a shut-down nexus stops sweeping once it is). */
    boolean isEmpty() {
        for (Stripe st : stripes) {
            synchronized (st) {
                if (st.head != null) {
                    return false;
                }
            }
        }
        return true;
    }
}
