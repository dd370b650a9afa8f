package io.javastor.ioengine.device;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How many I/Os are in flight on one device, replica or child, counted on stripes of their own cache lines so that
 * threads starting I/O on different cores do not contend for one line: a single shared counter, counted in and out
 * by every thread on every I/O, bounced between the cores on every I/O (as SPDK keeps per-thread channels, not shared
 * counters, on its I/O path). The nexus bench gained 8-10 % with one child and with three.
 *
 * <p>An I/O is counted out on the stripe it was counted in on ({@link #begin()} returns it, {@link #end(int)} takes
 * it, whichever thread completes it), so no stripe ever goes below zero and {@link #sum()} never reads 0 while an I/O
 * that was in flight for the whole read is still in flight: a drain check ("stopped admitting, then the sum is 0")
 * cannot end early, provided I/Os that start after the flag is set see it and are refused. Each step is a volatile
 * read-modify-write, so "count in, then check a (volatile) flag" against "set the flag, then sum" sees at least one of
 * the two, as with one counter.
 */
public final class InFlightCount {
    /** Longs from one stripe to the next: 128 bytes, a cache line and the neighbour the CPU fetches with it. */
    private static final int SPACING = 16;
    /**
     * Twice the power of two at or above the cores (4 on 2 cores), so threads running at once rarely share one; at most
     * 16 (2.2 KiB per count). The nexus's deadline lists stripe by thread the same way ({@link #stripeOfCurrentThread()}).
     */
    public static final int STRIPES = Math.min(16, Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1) << 1);

    private final AtomicLongArray cells = new AtomicLongArray((STRIPES + 1) * SPACING);

    /** Counts an I/O in; returns its stripe, to give to {@link #end(int)} when it completes. */
    public int begin() {
        // The first stripe starts one spacing in: not on the array's own header line.
        int stripe = (stripeOfCurrentThread() + 1) * SPACING;
        cells.getAndIncrement(stripe);
        return stripe;
    }

    /** The calling thread's stripe, 0 to {@link #STRIPES} - 1: fixed for a thread, spread over threads by their ids. */
    @SuppressWarnings("deprecation") // Thread.threadId() is Java 19+; this builds for 17
    public static int stripeOfCurrentThread() {
        return (int) (Thread.currentThread().getId() & (STRIPES - 1));
    }

    /** Counts out the I/O {@link #begin()} counted in on {@code stripe}. */
    public void end(int stripe) {
        cells.getAndDecrement(stripe);
    }

    /** The I/Os in flight: a value the count had during the read if none starts meanwhile, and never 0 while one that was in flight throughout is. */
    public long sum() {
        long n = 0;
        for (int s = SPACING; s < cells.length(); s += SPACING) {
            n += cells.get(s);
        }
        return n;
    }

    /** The lowest stripe now: never below zero, which is what makes {@link #sum()} safe for drain checks (tests). */
    long lowestStripe() {
        long low = Long.MAX_VALUE;
        for (int s = SPACING; s < cells.length(); s += SPACING) {
            low = Math.min(low, cells.get(s));
        }
        return low;
    }
}
