package io.javastor.ioengine.device.uring;

/**
 * When the completion poller spins and when it sleeps in the kernel: hybrid polling, chosen by measurement.
 *
 * <p>For an operation in flight alone (QD1) there are two ways to wait. <em>Sleep</em>: wait in the kernel until the
 * completion wakes the poller. <em>Hybrid</em>: sleep until a window before the operation's measured due time, spin
 * through the window (the completion is seen without a wake-up), and sleep again if it is late. Which is faster
 * depends on the machine: on bare metal the spin saves the wake-up; on a virtual machine a spinning vCPU can slow its
 * own I/O down (measured on a 2-vCPU KVM guest: a 10 us spin window turned a 38 us read into 47-65 us, while sleeping
 * matched fio). So both are measured: each lone operation's completion time goes into the average of the way it
 * waited, the faster way is used, and one lone operation in {@value #EXPLORE_EVERY} tries the other way so a change
 * (another disk, a quieter host) is noticed.
 *
 * <p>With several operations in flight the poller sleeps until the next completion: completions come in batches.
 *
 * <p>Also used by the NVMe/TCP host's socket loops for their lone commands ({@code PollingIoHandler}): there "hybrid"
 * means the loop spins until the answer comes (or its spin window ends), "sleep" that it waits in epoll.
 *
 * <p>Not thread-safe: {@link #submitted} runs under the reactor's submit lock (or on the host's loop), the rest on the
 * reaping thread.
 */
public final class HybridPolling {
    /** Sleep in the kernel until the next completion (no timeout shorter than this). */
    static final long UNTIL_COMPLETION = 200_000_000L;
    /** Sleeps shorter than this are not worth the system call: spin instead. */
    static final long MIN_SLEEP_NANOS = 3_000L;
    /** One lone operation in this many waits the other way, to keep both averages current. */
    public static final int EXPLORE_EVERY = 32;
    /** How an operation that was not alone waited (it teaches nothing). */
    public static final byte NOT_ALONE = 0;
    public static final byte SLEPT = 1;
    public static final byte HYBRID = 2;
    /** Weight of a new sample in an average, as a shift: 1/8. */
    private static final int EWMA_SHIFT = 3;

    private final long windowNanos;
    /** Average completion time of lone operations, whichever way they waited: where the spin window is centred. */
    private long expectedNanos;
    /** Average completion time of lone operations by the way they waited; 0 = not measured yet. */
    private long sleptNanos;
    private long hybridNanos;
    private int loneCount;
    /** The way the current lone operation waits, and when it was submitted. */
    private volatile byte mode = SLEPT;
    private volatile long lastSubmitNanos;

    /** @param windowNanos how long before and after a lone operation's due time the poller spins; 0 = never spin */
    public HybridPolling(long windowNanos) {
        if (windowNanos < 0) {
            throw new IllegalArgumentException("spin window must be >= 0 ns, got " + windowNanos);
        }
        this.windowNanos = windowNanos;
    }

    /** An operation went to the kernel at {@code now}; returns how it waits ({@link #NOT_ALONE} unless alone). */
    public byte submitted(long now, boolean alone) {
        lastSubmitNanos = now;
        if (!alone) {
            return NOT_ALONE;
        }
        byte m = chooseMode();
        mode = m;
        return m;
    }

    private byte chooseMode() {
        if (windowNanos == 0 || expectedNanos == 0) {
            return SLEPT;
        }
        if (hybridNanos == 0) {
            return HYBRID;
        }
        byte faster = hybridFaster() ? HYBRID : SLEPT;
        if (++loneCount % EXPLORE_EVERY == 0) {
            return faster == HYBRID ? SLEPT : HYBRID;
        }
        return faster;
    }

    /** A lone operation that waited by {@code how} and was submitted at {@code submittedAt} was reaped at {@code now}. */
    public void completedAlone(byte how, long submittedAt, long now) {
        long took = Math.max(0, now - submittedAt);
        // An outlier (a host hiccup, a flush behind the I/O) counts as twice the usual, no more: one 300 us sample
        // must not move an average of 40 us far enough to flip the choice for hundreds of operations.
        long e = expectedNanos;
        long sample = e == 0 ? took : Math.min(took, 2 * e);
        expectedNanos = average(e, sample);
        if (how == HYBRID) {
            hybridNanos = average(hybridNanos, sample);
        } else if (how == SLEPT) {
            sleptNanos = average(sleptNanos, sample);
        }
    }

    private static long average(long avg, long sample) {
        return avg == 0 ? Math.max(1, sample) : avg + ((sample - avg) >> EWMA_SHIFT);
    }

    /** The measured completion time of a lone operation, in nanoseconds; 0 before the first one. */
    long expectedNanos() {
        return expectedNanos;
    }

    /** Spinning must win by 1/16 (2.5 us at 40 us): a spinning core is not free, and a tie is not worth it. */
    private boolean hybridFaster() {
        return hybridNanos + (hybridNanos >> 4) < sleptNanos;
    }

    /** Whether lone operations currently wait the hybrid way (spinning around their due time). */
    public boolean spinning() {
        return hybridNanos != 0 && sleptNanos != 0 ? hybridFaster() : mode == HYBRID;
    }

    /** Whether the latest lone operation waits the hybrid way (spinning); meaningful while it is in flight alone. */
    public boolean loneOperationSpins() {
        return mode == HYBRID;
    }

    /**
     * What the poller does next with nothing ready: 0 = spin (poll again at once); otherwise sleep in the kernel
     * for at most that many nanoseconds (a completion ends the sleep early).
     */
    long waitNanos(long now, int inFlight) {
        if (inFlight != 1 || mode != HYBRID) {
            return UNTIL_COMPLETION;
        }
        long due = lastSubmitNanos + expectedNanos;
        long spinFrom = due - windowNanos;
        if (now < spinFrom) {
            long sleep = spinFrom - now;
            return sleep >= MIN_SLEEP_NANOS ? sleep : 0;
        }
        return now < due + windowNanos ? 0 : UNTIL_COMPLETION;
    }
}
