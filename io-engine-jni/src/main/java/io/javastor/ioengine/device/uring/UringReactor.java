package io.javastor.ioengine.device.uring;

import io.javastor.ioengine.device.DmaBuffers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * One io_uring and the thread that reaps its completions.
 *
 * <p>Submitters call {@link #submit} from any thread (serialised by a short lock: liburing's SQ has a
 * single producer); the poller thread is the CQ's single consumer. It sleeps in the kernel until the next
 * completion, except around a lone operation's measured due time, when it spins ({@link HybridPolling}): an idle
 * engine costs no CPU, and a QD1 operation is seen without a wake-up.
 *
 * <p>Another thread that polls anyway (a socket event loop that serves the I/O, as the NVMe-oF target's
 * does) may take over reaping with {@link #acquirePolling()}: it then calls {@link #poll()} in its loop
 * and completions run on it, with no thread hop and no wake-up, while the poller thread parks (and takes
 * over again if the holder stops polling for {@value #EXTERNAL_STALE_NANOS} ns, or on {@link #releasePolling()}).
 * One thread reaps at a time; callbacks never run concurrently with each other.
 *
 * <p>A <em>single-issuer</em> reactor ({@link #singleIssuer}) lets no other thread into its ring: the poller thread
 * creates it, makes every submission and every reap, and other threads hand their operations over through a queue
 * (waking the poller through an eventfd read it keeps queued in the ring while it sleeps). The kernel then defers
 * completions' task work until the poller asks for events instead of interrupting the thread once per completion
 * (DEFER_TASKRUN; +6-7 % QD32 IOPS in a C loop on a small VM, nothing measurable alone in ours: docs/benchmarks.md,
 * storage), and one io_uring_enter per turn both submits what the poller queued and collects completions. The poller
 * submits each operation at once unless it is saturated ({@link BusyGauge}). Such a reactor cannot be taken over by
 * an external poller; threads that want their completions on themselves use a shared one
 * ({@link #useForThisThread}).
 */
public final class UringReactor implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UringReactor.class);
    private static final int REAP_BATCH = 256;
    /** An external poller that has not polled for this long is presumed stuck: the poller thread reaps. */
    static final long EXTERNAL_STALE_NANOS = 2_000_000L;
    private static final long EXTERNAL_PARK_NANOS = 5_000_000L;

    /** Set by the poller thread, which creates the ring, before the constructor returns. */
    private long ring;
    /** Whether only the poller thread enters the ring (see the class comment); set with {@link #ring}. */
    private boolean singleIssuer;
    /** Single-issuer: operations other threads handed over, taken by the poller thread on its next turn. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Pending> handedOff = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Single-issuer: the eventfd whose queued read wakes the poller, and whether that read is queued (poller-confined). */
    private int wakeFd = -1;
    private final Object wakeFdLock = new Object();
    private boolean wakeReadQueued;
    /** Single-issuer: the poller's last failed io_uring_enter (-errno), logged once until it succeeds again. */
    private int lastError;
    private final ByteBuffer wakeRead = DmaBuffers.allocate(8);
    private final long wakeReadAddr;
    /** Single-issuer: the poller is (about to be) asleep in the kernel; a hand-over must signal {@link #wakeFd}. */
    private volatile boolean pollerSleeping;
    private static final long WAKE_TAG = -2;
    /** Single-issuer: whether the poller is saturated (then it batches its submissions per turn); poller-confined. */
    private final BusyGauge pollerBusy = new BusyGauge();
    private final int entries;
    private final HybridPolling polling;
    private final Object submitLock = new Object();
    /** Slot i holds the callback of the op whose user_data is i. Guarded by submitLock. */
    private final Completion[] slots;
    /** When slot i's op was submitted, and how it waits ({@link HybridPolling#NOT_ALONE} unless alone). Guarded by submitLock. */
    private final long[] submittedAt;
    private final byte[] waitMode;
    private final int[] freeSlots;
    private int freeTop;
    /** SQEs prepared in a {@link SubmissionBatch} and not yet handed to the kernel. Guarded by submitLock. */
    private volatile int unsubmitted;
    /**
     * A batch's flush failed: its SQEs wait in the ring for the poller thread's next turn. Only then does the poller
     * flush; otherwise it would hand other threads' open batches to the kernel early and undo the batching.
     */
    private volatile boolean flushFailed;
    /** Ops that found every slot taken; submitted as slots free up. Guarded by submitLock. */
    private final ArrayDeque<Pending> backlog = new ArrayDeque<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ByteBuffer reapOut;
    private final long reapOutAddr;
    private final Thread poller;
    private volatile boolean running = true;
    /** Held by whichever thread is reaping (CQ single consumer): the poller thread or an external poller. */
    private final java.util.concurrent.atomic.AtomicBoolean reaping = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicReference<Thread> externalPoller = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile long externalPolledAt;
    /** The holder sleeps in its own loop, to be woken through {@link #completionEventFd()}. */
    private volatile boolean armed;
    private int eventFd = -1;
    /** Set (under this object's lock) when close() frees the ring: a loop still arming must not touch it. */
    private boolean ringFreed;
    private final Completion[] batch = new Completion[REAP_BATCH];
    private final int[] results = new int[REAP_BATCH];

    /** Completion callback: res is the kernel's result (bytes or -errno). */
    @FunctionalInterface
    public interface Completion extends IntConsumer {
    }

    private record Pending(int op, int fd, long addr, long len, long offset, Completion completion) {
    }

    /** A ring that any thread may submit to and an external poller may reap ({@link #acquirePolling()}). */
    public UringReactor(String name, int entries, long spinMicros, int sqpollIdleMs) {
        this(name, entries, spinMicros, sqpollIdleMs, false);
    }

    /**
     * @param spinMicros how long before and after a lone operation's measured due time the poller spins; 0 = never
     * @param singleIssuer only the poller thread enters the ring (see the class comment); on a kernel without
     *                     DEFER_TASKRUN (before 6.1), or with SQPOLL, the reactor is a shared one instead
     */
    public UringReactor(String name, int entries, long spinMicros, int sqpollIdleMs, boolean singleIssuer) {
        NativeIo.load();
        if (Integer.bitCount(entries) != 1 || entries < 8 || entries > 4096) {
            throw new IllegalArgumentException("io_uring entries must be a power of two in 8..4096, got " + entries);
        }
        this.entries = entries;
        this.polling = new HybridPolling(spinMicros * 1000);
        // In flight never exceeds the SQ size, so the CQ (2x) cannot overflow.
        this.slots = new Completion[entries];
        this.submittedAt = new long[entries];
        this.waitMode = new byte[entries];
        this.freeSlots = new int[entries];
        for (int i = 0; i < entries; i++) {
            freeSlots[i] = entries - 1 - i;
        }
        this.freeTop = entries;
        this.reapOut = DmaBuffers.allocate(REAP_BATCH * 16).order(ByteOrder.nativeOrder());
        this.reapOutAddr = NativeIo.bufferAddress(reapOut);
        this.wakeReadAddr = NativeIo.bufferAddress(wakeRead);
        CompletableFuture<Long> created = new CompletableFuture<>();
        // The poller creates the ring: a single-issuer ring belongs to the thread that creates it.
        this.poller = new Thread(() -> createRingAndPoll(created, sqpollIdleMs, singleIssuer && sqpollIdleMs <= 0), "uring-poller-" + name);
        poller.setDaemon(true);
        poller.start();
        long r = created.join();
        if (r < 0) {
            throw new IllegalStateException("io_uring_queue_init failed: " + NativeIo.strerror((int) -r));
        }
    }

    private void createRingAndPoll(CompletableFuture<Long> created, int sqpollIdleMs, boolean wantSingleIssuer) {
        long r;
        try {
            r = NativeIo.ringCreate(entries, sqpollIdleMs, wantSingleIssuer);
            boolean single = wantSingleIssuer && r >= 0;
            if (wantSingleIssuer && r == -22) { // EINVAL: a kernel before 6.1; a shared ring works everywhere
                LOG.info("io_uring single-issuer rings are not available on this kernel; the reactor's ring takes submissions from any thread");
                r = NativeIo.ringCreate(entries, sqpollIdleMs, false);
            }
            if (single) {
                int fd = NativeIo.wakeFdCreate();
                if (fd < 0) {
                    NativeIo.ringDestroy(r);
                    r = fd;
                    single = false;
                } else {
                    wakeFd = fd;
                }
            }
            ring = r;
            singleIssuer = single;
        } catch (Throwable t) {
            created.completeExceptionally(t);
            return;
        }
        created.complete(r);
        if (r >= 0) {
            pollLoop();
        }
    }

    /** The reactor a thread's device I/O goes to when it is not the device's own (see {@link #useForThisThread}). */
    private static final ThreadLocal<UringReactor> THREAD_REACTOR = new ThreadLocal<>();

    /**
     * Makes the device I/O that the calling thread starts go to {@code reactor} instead of the device's reactor: a
     * thread that reaps a shared reactor itself (an NVMe-oF target loop) then gets its completions without a hop.
     */
    public static void useForThisThread(UringReactor reactor) {
        THREAD_REACTOR.set(reactor);
    }

    /** The reactor for device I/O started on the calling thread: its own ({@link #useForThisThread}) or {@code deviceReactor}. */
    public static UringReactor forThisThread(UringReactor deviceReactor) {
        UringReactor r = THREAD_REACTOR.get();
        return r != null ? r : deviceReactor;
    }

    /** Whether only the poller thread enters this reactor's ring (other threads hand their operations over). */
    public boolean singleIssuer() {
        return singleIssuer;
    }

    public int entries() {
        return entries;
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Queues one op; {@code completion} runs on the poller thread with the kernel's result. */
    public void submit(int op, int fd, long addr, long len, long offset, Completion completion) {
        if (singleIssuer && Thread.currentThread() != poller) {
            handOver(new Pending(op, fd, addr, len, offset, completion));
            return;
        }
        int rc;
        int slot;
        boolean enterFailed = false;
        synchronized (submitLock) {
            if (!running) {
                rc = -108; // ESHUTDOWN
                slot = -1;
            } else if (freeTop == 0) {
                backlog.addLast(new Pending(op, fd, addr, len, offset, completion));
                return;
            } else {
                slot = freeSlots[--freeTop];
                slots[slot] = completion;
                long now = System.nanoTime();
                submittedAt[slot] = now;
                waitMode[slot] = polling.submitted(now, inFlight.incrementAndGet() == 1);
                // Prepared first, entered after: only a failed preparation leaves no SQE behind, so only then is the
                // op failed and its slot reused. An SQE whose io_uring_enter failed stays queued for the next one.
                rc = NativeIo.queue(ring, op, fd, addr, len, offset, slot);
                if (rc == 0) {
                    unsubmitted++;
                    SubmissionBatch batching = SubmissionBatch.current();
                    if (singleIssuer ? !pollerBusy.saturated(now) : batching == null) {
                        // At once (a poller with time to spare: BusyGauge); otherwise the poller's next reap or the
                        // batch's close enters the kernel with it.
                        int entered = NativeIo.flush(ring);
                        if (entered >= 0) {
                            unsubmitted = 0; // that io_uring_enter took every prepared SQE, batched ones included
                        } else if (!singleIssuer) {
                            enterFailed = true;
                            flushFailed = true;
                        } // single-issuer: the poller's next reap submits it
                    } else if (!singleIssuer) {
                        batching.queuedOn(this);
                    }
                }
                if (rc < 0) {
                    slots[slot] = null;
                    freeSlots[freeTop++] = slot;
                    inFlight.decrementAndGet();
                }
            }
        }
        if (enterFailed) {
            LOG.warn("io_uring submit failed; the poller submits the queued operations on its next turn");
            java.util.concurrent.locks.LockSupport.unpark(poller);
        }
        if (rc < 0) {
            runCallback(completion, rc);
        }
    }

    /** Runs a completion callback; one that throws is reported and must not stop the thread that runs it. */
    private static void runCallback(Completion completion, int res) {
        try {
            completion.accept(res);
        } catch (Throwable t) {
            LOG.error("uring completion callback failed", t);
        }
    }

    /** Single-issuer, off the poller thread: the poller submits the op on its next turn (woken if asleep). */
    private void handOver(Pending p) {
        handedOff.offer(p);
        if (!running) {
            failHandedOff(); // close() has begun: fail what is left (each op once: whoever polls it from the queue)
            return;
        }
        SubmissionBatch batching = SubmissionBatch.current();
        if (batching != null) {
            batching.queuedOn(this); // woken once when the batch closes
        } else {
            wakePoller();
        }
    }

    private void wakePoller() {
        if (pollerSleeping) {
            signalWakeFd();
        }
    }

    /** Under a lock with its close: a signaller preempted past close() must not write into a recycled fd number. */
    private void signalWakeFd() {
        synchronized (wakeFdLock) {
            if (wakeFd >= 0) {
                NativeIo.eventFdSignal(wakeFd);
            }
        }
    }

    private void failHandedOff() {
        Pending p;
        while ((p = handedOff.poll()) != null) {
            runCallback(p.completion, -108); // ESHUTDOWN
        }
    }

    /** On the poller thread: submits what other threads handed over (at once, or with its next enter when saturated). */
    private void takeHandedOff() {
        Pending p = handedOff.poll();
        if (p == null) {
            return;
        }
        // No SubmissionBatch: this ring's poller ignores batches (BusyGauge decides), and it submits to no other ring.
        do {
            submit(p.op, p.fd, p.addr, p.len, p.offset, p.completion); // a failed op's callback runs guarded
        } while ((p = handedOff.poll()) != null);
    }

    /**
     * Submits the SQEs queued in {@link SubmissionBatch}es (any thread's: the SQ is shared). On failure they stay
     * queued and the poller thread's next turn submits them, so none is stranded. On a single-issuer ring another
     * thread's batch only wakes the poller, which submits what was handed over.
     */
    void flushQueued() {
        if (singleIssuer) {
            if (Thread.currentThread() != poller) {
                wakePoller();
            } // on the poller, its next reap submits them
            return;
        }
        synchronized (submitLock) {
            if (unsubmitted == 0) {
                return;
            }
            int rc = NativeIo.flush(ring);
            if (rc >= 0) {
                unsubmitted = 0;
                return;
            }
            LOG.warn("io_uring submit of {} queued operations failed: {}; the poller retries", unsubmitted, NativeIo.strerror(-rc));
            flushFailed = true;
        }
        java.util.concurrent.locks.LockSupport.unpark(poller);
    }

    /** Convenience for callers that want a future of the result. */
    public CompletableFuture<Integer> submit(int op, int fd, long addr, long len, long offset) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        submit(op, fd, addr, len, offset, f::complete);
        return f;
    }

    private void pollLoop() {
        NativeIo.setTimerSlack(HybridPolling.MIN_SLEEP_NANOS / 3); // the default 50 us slack would outlast a hybrid sleep
        if (singleIssuer) {
            pollOwnRing();
            return;
        }
        while (running || inFlight.get() > 0) {
            if (flushFailed) {
                flushFailed = false;
                flushQueued();
            }
            Thread ext = externalPoller.get();
            if (ext != null && running && (armed || System.nanoTime() - externalPolledAt < EXTERNAL_STALE_NANOS)) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, EXTERNAL_PARK_NANOS);
                continue;
            }
            if (reapAndRun(0) != 0) {
                continue;
            }
            long wait = polling.waitNanos(System.nanoTime(), inFlight.get());
            if (wait == 0) {
                Thread.onSpinWait();
            } else {
                reapAndRun(wait);
            }
        }
    }

    /** The poller of a single-issuer ring: nobody else reaps it, and submissions come to it. */
    private void pollOwnRing() {
        while (running || inFlight.get() > 0 || !handedOff.isEmpty()) {
            if (running) {
                takeHandedOff();
            } else {
                failHandedOff();
            }
            int n = reapAndRun(0);
            if (n < 0) {
                // The kernel refused the submission or the wait (e.g. ENOMEM); the SQEs stay queued for the next try.
                if (n != lastError) {
                    LOG.warn("io_uring enter failed: {}; retrying every millisecond", NativeIo.strerror(-n));
                }
                lastError = n;
                java.util.concurrent.locks.LockSupport.parkNanos(this, 1_000_000L);
                continue;
            }
            lastError = 0;
            if (n > 0) {
                continue;
            }
            long wait = polling.waitNanos(System.nanoTime(), inFlight.get());
            if (wait == 0) {
                Thread.onSpinWait();
                continue;
            }
            queueWakeRead();
            pollerSleeping = true;
            // A hand-over either sees pollerSleeping and signals, or is seen here (both fields are volatile).
            if (handedOff.isEmpty()) {
                reapAndRun(wait);
            }
            pollerSleeping = false;
        }
    }

    /** Keeps a read of {@link #wakeFd} in the ring while the poller sleeps: a signal from another thread completes it. */
    private void queueWakeRead() {
        if (wakeReadQueued) {
            return;
        }
        synchronized (submitLock) {
            int rc = NativeIo.queue(ring, NativeIo.OP_READ, wakeFd, wakeReadAddr, 8, -1, WAKE_TAG);
            if (rc < 0) {
                // The sleep is bounded (HybridPolling): hand-overs wait for its end instead of a wake-up.
                LOG.warn("io_uring: queueing the poller's wake-up read failed: {}", NativeIo.strerror(-rc));
                return;
            }
            unsubmitted++;
            wakeReadQueued = true;
        }
    }

    /** The measured completion time of an operation in flight alone (0 before the first): what the poller's spin aims at. */
    public long expectedCompletionNanos() {
        return polling.expectedNanos();
    }

    /** Whether lone operations are currently waited for by spinning around their due time (measured to be faster). */
    public boolean spinsForLoneOperations() {
        return polling.spinning();
    }

    /**
     * Whether the operation now in flight alone was chosen to be waited for by spinning (the measured faster way, or
     * this turn's try of the other way); false when none or several are in flight. A thread that polls this reactor
     * ({@link #acquirePolling()}) and follows this lets the same measurement choose for it.
     */
    public boolean spinsForLoneOperation() {
        return inFlight.get() == 1 && polling.loneOperationSpins();
    }

    /** Operations prepared in a {@link SubmissionBatch} that the kernel has not been handed yet. */
    int queuedUnsubmitted() {
        return unsubmitted;
    }

    /**
     * Makes the calling thread this reactor's poller until {@link #releasePolling()}: it must then call
     * {@link #poll()} often (every loop turn). False when another thread holds it.
     */
    public boolean acquirePolling() {
        if (singleIssuer) {
            return false;
        }
        Thread me = Thread.currentThread();
        if (externalPoller.get() == me) {
            return true;
        }
        externalPolledAt = System.nanoTime();
        return externalPoller.compareAndSet(null, me);
    }

    /** Gives reaping back to the poller thread (no-op unless the caller holds it). */
    public void releasePolling() {
        if (externalPoller.get() == Thread.currentThread()) {
            if (armed) {
                armCompletionEvents(false);
            }
            externalPoller.set(null);
            java.util.concurrent.locks.LockSupport.unpark(poller);
        }
    }

    /**
     * An eventfd (non-blocking) that the kernel signals on each completion of this ring while the polling holder has
     * armed it ({@link #armCompletionEvents}): the holder's own event loop can sleep on it. Created on first call;
     * -errno when the kernel cannot. The reactor owns and closes it.
     */
    public synchronized int completionEventFd() {
        if (singleIssuer) {
            return -95; // EOPNOTSUPP: nobody but the poller reaps this ring
        }
        if (eventFd == -1 && running) {
            int fd = NativeIo.eventFdCreate(ring);
            eventFd = fd;
        }
        return eventFd;
    }

    /**
     * For the polling holder, around sleeping in its own loop: armed, completions signal {@link #completionEventFd()}
     * and the poller thread stays parked however long the holder sleeps. Arming returns true when completions are
     * already waiting (do not sleep then: poll).
     */
    public boolean armCompletionEvents(boolean on) {
        if (externalPoller.get() != Thread.currentThread() || eventFd < 0) {
            return false;
        }
        synchronized (this) { // with close(), which frees the ring under the same lock
            if (ringFreed) {
                return false;
            }
            armed = on;
            NativeIo.eventFdEnable(ring, on);
            return on && NativeIo.ready(ring);
        }
    }

    /** Whether the calling thread holds polling. */
    public boolean isPollingThread() {
        return externalPoller.get() == Thread.currentThread();
    }

    /**
     * Reaps ready completions without waiting and runs their callbacks on the calling thread; returns
     * how many ran (0 also when another thread is reaping, or when called from inside a callback).
     */
    public int poll() {
        if (externalPoller.get() == Thread.currentThread()) {
            externalPolledAt = System.nanoTime();
        }
        int n = reapAndRun(0);
        return Math.max(n, 0);
    }

    /** One reap (waiting up to waitNanos when positive) and its callbacks, by whichever thread gets the CQ. */
    private int reapAndRun(long waitNanos) {
        if (singleIssuer && Thread.currentThread() != poller) {
            return 0;
        }
        if (!reaping.compareAndSet(false, true)) {
            return 0;
        }
        int n;
        try {
            n = reapNative(waitNanos);
            if (waitNanos > 0 && singleIssuer) {
                pollerSleeping = false; // awake: hand-overs made while its callbacks run need no signal
            }
            if (n <= 0) {
                return n;
            }
            long now = System.nanoTime();
            synchronized (submitLock) {
                for (int i = 0; i < n; i++) {
                    int slot = (int) reapOut.getLong(i * 16);
                    results[i] = (int) reapOut.getLong(i * 16 + 8);
                    if (slot < 0 || slot >= slots.length) { // the wake-up NOP of close(), or the wake-up read
                        if (slot == WAKE_TAG) {
                            wakeReadQueued = false;
                        }
                        batch[i] = null;
                        continue;
                    }
                    batch[i] = slots[slot];
                    slots[slot] = null;
                    if (waitMode[slot] != HybridPolling.NOT_ALONE) {
                        polling.completedAlone(waitMode[slot], submittedAt[slot], now);
                    }
                    freeSlots[freeTop++] = slot;
                    inFlight.decrementAndGet();
                }
            }
            // Resubmissions made by these callbacks go to the kernel together when the batch closes.
            try (SubmissionBatch resubmissions = SubmissionBatch.open()) {
                for (int i = 0; i < n; i++) {
                    if (batch[i] != null) {
                        Completion c = batch[i];
                        batch[i] = null;
                        try {
                            c.accept(results[i]);
                        } catch (Throwable t) {
                            // A callback's own bug must not kill the reactor; it is reported, not swallowed.
                            LOG.error("uring completion callback failed", t);
                        }
                    }
                }
            }
        } finally {
            reaping.set(false);
        }
        drainBacklog();
        return n;
    }

    /**
     * One io_uring_enter at most: on a single-issuer ring it also submits what the poller queued since the last one
     * (its own submissions, the hand-overs, the resubmissions of the last reap's callbacks).
     */
    private int reapNative(long waitNanos) {
        int n = NativeIo.reap(ring, reapOutAddr, REAP_BATCH, waitNanos, singleIssuer);
        if (singleIssuer && n >= 0) {
            unsubmitted = 0;
        }
        return n;
    }

    private void drainBacklog() {
        while (true) {
            Pending p;
            synchronized (submitLock) {
                if (backlog.isEmpty() || freeTop == 0) {
                    return;
                }
                p = backlog.pollFirst();
            }
            submit(p.op, p.fd, p.addr, p.len, p.offset, p.completion);
        }
    }

    @Override
    public void close() {
        synchronized (submitLock) {
            if (!running) {
                return;
            }
            running = false;
        }
        // Wake the poller if it sleeps in the kernel (user_data -1 marks the wake-up) or is parked.
        if (singleIssuer) {
            signalWakeFd();
        } else {
            NativeIo.submit(ring, NativeIo.OP_NOP, -1, 0, 0, 0, -1);
        }
        java.util.concurrent.locks.LockSupport.unpark(poller);
        try {
            poller.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        java.util.List<Pending> orphans;
        synchronized (submitLock) {
            orphans = new java.util.ArrayList<>(backlog);
            backlog.clear();
        }
        orphans.forEach(p -> runCallback(p.completion, -108));
        failHandedOff();
        if (!poller.isAlive()) {
            // Keep external pollers off the ring for good before it is freed (leak it rather than free it under one).
            long until = System.nanoTime() + 5_000_000_000L;
            boolean owned;
            while (!(owned = reaping.compareAndSet(false, true)) && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            if (owned) {
                synchronized (this) {
                    ringFreed = true;
                    NativeIo.ringDestroy(ring);
                    if (eventFd >= 0) {
                        NativeIo.close(eventFd);
                    }
                }
                synchronized (wakeFdLock) {
                    if (wakeFd >= 0) {
                        NativeIo.close(wakeFd);
                        wakeFd = -1;
                    }
                }
            }
        }
    }
}
