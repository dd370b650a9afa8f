package io.javastor.ioengine.device.uring;

/**
 * How much of the recent time a polling thread spent working rather than asleep waiting for events: whether it is
 * saturated. A saturated thread gathers its submissions into one {@code io_uring_enter} per turn (the CPU it saves is
 * what limits it); one with time to spare submits each operation at once, because on some devices a batch's burst
 * costs more than the system calls it saves: on a one-queue virtio disk (mq-deadline) a replica's QD32 random reads
 * went from 0.83x to 1.05x fio's IOPS by submitting each at once (docs/benchmarks.md, storage, session #29), while a
 * poller driving RAM-backed children at full speed needs the batching.
 *
 * <p>Confined to its thread. Measured over windows of {@value #WINDOW_NANOS} ns, with hysteresis: saturated above
 * 90 % busy, no longer below 70 %.
 */
public final class BusyGauge {
    static final long WINDOW_NANOS = 20_000_000L;
    private long windowStart = System.nanoTime();
    private long asleep;
    private boolean saturated;

    /** The thread slept (waited for events in the kernel) this long. */
    public void slept(long nanos) {
        asleep += nanos;
    }

    /** Whether the thread was busy for most of the last full window. */
    public boolean saturated(long now) {
        long elapsed = now - windowStart;
        if (elapsed >= WINDOW_NANOS) {
            long busyPermille = (elapsed - Math.min(asleep, elapsed)) * 1000 / elapsed;
            saturated = saturated ? busyPermille > 700 : busyPermille > 900;
            windowStart = now;
            asleep = 0;
        }
        return saturated;
    }
}
