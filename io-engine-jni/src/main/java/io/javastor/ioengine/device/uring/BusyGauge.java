package io.javastor.ioengine.device.uring;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.function.LongSupplier;

/**
 * Whether a polling thread is saturated: busy on a CPU for most of the recent time. A saturated thread gathers its
 * submissions into one {@code io_uring_enter} per turn (the CPU that saves is what limits it); one with time to spare
 * submits each operation at once, because on some devices a batch's burst costs more than the system calls it saves:
 * on a one-queue virtio disk (mq-deadline) a replica's QD32 random reads went from 0.83x to 1.00-1.05x fio's IOPS by
 * submitting each at once, and QD32 writes through the NVMe/TCP target from 49k to 74k IOPS (docs/benchmarks.md,
 * session #29), while a thread driving RAM-backed devices flat out needs the batching.
 *
 * <p>Confined to the thread it measures (the first to ask). Reads that thread's CPU time once per window of
 * {@value #WINDOW_NANOS} ns; saturated above 90 % busy, no longer below 70 % (hysteresis). A thread that spins
 * counts as busy: it spins only with an operation or two in flight, where there is nothing to batch.
 */
public final class BusyGauge {
    static final long WINDOW_NANOS = 20_000_000L;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final LongSupplier threadCpuNanos;
    private long windowStart;
    private long cpuAtWindowStart = -1;
    private boolean saturated;

    public BusyGauge() {
        this(THREADS::getCurrentThreadCpuTime);
    }

    /** @param threadCpuNanos the measured thread's CPU time so far (tests pass their own clock) */
    BusyGauge(LongSupplier threadCpuNanos) {
        this.threadCpuNanos = threadCpuNanos;
    }

    /** Whether the thread was busy for most of the last full window; {@code now} is {@link System#nanoTime()}. */
    public boolean saturated(long now) {
        if (cpuAtWindowStart < 0) {
            windowStart = now;
            cpuAtWindowStart = threadCpuNanos.getAsLong();
            return false;
        }
        long elapsed = now - windowStart;
        if (elapsed >= WINDOW_NANOS) {
            long cpu = threadCpuNanos.getAsLong();
            long busyPermille = Math.min(cpu - cpuAtWindowStart, elapsed) * 1000 / elapsed;
            saturated = saturated ? busyPermille > 700 : busyPermille > 900;
            windowStart = now;
            cpuAtWindowStart = cpu;
        }
        return saturated;
    }
}
