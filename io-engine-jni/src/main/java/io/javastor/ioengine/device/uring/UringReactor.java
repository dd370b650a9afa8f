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
 * single producer); the poller thread is the CQ's single consumer. The poller busy-polls while I/O is
 * in flight, for up to {@code spinNanos} after the last completion, then sleeps in the kernel until the
 * next completion: an idle engine costs no CPU, a busy one sees completions without a wake-up.
 */
public final class UringReactor implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UringReactor.class);
    private static final long IDLE_WAIT_NANOS = 200_000_000L;
    private static final int REAP_BATCH = 256;

    private final long ring;
    private final int entries;
    private final long spinNanos;
    private final Object submitLock = new Object();
    /** Slot i holds the callback of the op whose user_data is i. Guarded by submitLock. */
    private final Completion[] slots;
    private final int[] freeSlots;
    private int freeTop;
    /** Ops that found every slot taken; submitted as slots free up. Guarded by submitLock. */
    private final ArrayDeque<Pending> backlog = new ArrayDeque<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ByteBuffer reapOut;
    private final long reapOutAddr;
    private final Thread poller;
    private volatile boolean running = true;

    /** Completion callback: res is the kernel's result (bytes or -errno). */
    @FunctionalInterface
    public interface Completion extends IntConsumer {
    }

    private record Pending(int op, int fd, long addr, long len, long offset, Completion completion) {
    }

    public UringReactor(String name, int entries, long spinMicros, int sqpollIdleMs) {
        NativeIo.load();
        if (Integer.bitCount(entries) != 1 || entries < 8 || entries > 4096) {
            throw new IllegalArgumentException("io_uring entries must be a power of two in 8..4096, got " + entries);
        }
        long r = NativeIo.ringCreate(entries, sqpollIdleMs);
        if (r < 0) {
            throw new IllegalStateException("io_uring_queue_init failed: " + NativeIo.strerror((int) -r));
        }
        this.ring = r;
        this.entries = entries;
        this.spinNanos = spinMicros * 1000;
        // In flight never exceeds the SQ size, so the CQ (2x) cannot overflow.
        this.slots = new Completion[entries];
        this.freeSlots = new int[entries];
        for (int i = 0; i < entries; i++) {
            freeSlots[i] = entries - 1 - i;
        }
        this.freeTop = entries;
        this.reapOut = DmaBuffers.allocate(REAP_BATCH * 16).order(ByteOrder.nativeOrder());
        this.reapOutAddr = NativeIo.bufferAddress(reapOut);
        this.poller = new Thread(this::pollLoop, "uring-poller-" + name);
        poller.setDaemon(true);
        poller.start();
    }

    public int entries() {
        return entries;
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Queues one op; {@code completion} runs on the poller thread with the kernel's result. */
    public void submit(int op, int fd, long addr, long len, long offset, Completion completion) {
        int rc;
        int slot;
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
                inFlight.incrementAndGet();
                rc = NativeIo.submit(ring, op, fd, addr, len, offset, slot);
                if (rc < 0) {
                    slots[slot] = null;
                    freeSlots[freeTop++] = slot;
                    inFlight.decrementAndGet();
                }
            }
        }
        if (rc < 0) {
            completion.accept(rc);
        }
    }

    /** Convenience for callers that want a future of the result. */
    public CompletableFuture<Integer> submit(int op, int fd, long addr, long len, long offset) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        submit(op, fd, addr, len, offset, f::complete);
        return f;
    }

    private void pollLoop() {
        Completion[] batch = new Completion[REAP_BATCH];
        int[] results = new int[REAP_BATCH];
        long lastWork = System.nanoTime();
        while (running || inFlight.get() > 0) {
            int n = NativeIo.reap(ring, reapOutAddr, REAP_BATCH, 0);
            if (n == 0) {
                if (inFlight.get() > 0 && System.nanoTime() - lastWork < spinNanos) {
                    Thread.onSpinWait();
                    continue;
                }
                n = NativeIo.reap(ring, reapOutAddr, REAP_BATCH, IDLE_WAIT_NANOS);
                if (n <= 0) {
                    continue;
                }
            }
            if (n < 0) {
                continue;
            }
            lastWork = System.nanoTime();
            synchronized (submitLock) {
                for (int i = 0; i < n; i++) {
                    int slot = (int) reapOut.getLong(i * 16);
                    results[i] = (int) reapOut.getLong(i * 16 + 8);
                    if (slot < 0 || slot >= slots.length) { // the wake-up NOP of close()
                        batch[i] = null;
                        continue;
                    }
                    batch[i] = slots[slot];
                    slots[slot] = null;
                    freeSlots[freeTop++] = slot;
                    inFlight.decrementAndGet();
                }
            }
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
            drainBacklog();
        }
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
        // Wake the poller if it sleeps in the kernel; user_data -1 marks the wake-up.
        NativeIo.submit(ring, NativeIo.OP_NOP, -1, 0, 0, 0, -1);
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
        orphans.forEach(p -> p.completion.accept(-108));
        if (!poller.isAlive()) {
            NativeIo.ringDestroy(ring);
        }
    }
}
