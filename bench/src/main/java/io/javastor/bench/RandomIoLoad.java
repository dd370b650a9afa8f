package io.javastor.bench;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Random I/O at a fixed queue depth against any {@link BlockDevice}, like fio's randread/randwrite:
 * each of {@code queueDepth} slots keeps one I/O in flight and issues the next from the previous
 * one's completion (no thread hop). Records every latency; reports IOPS, MiB/s and percentiles.
 */
public final class RandomIoLoad {

    public record Options(int ioSize, int queueDepth, Duration warmup, Duration duration, double readFraction,
                          long regionOffset, long regionLength, long seed) {
        public static Options of(int ioSize, int queueDepth, Duration duration, double readFraction, long regionOffset, long regionLength) {
            return new Options(ioSize, queueDepth, Duration.ofMillis(500), duration, readFraction, regionOffset, regionLength, 42);
        }
    }

    /** @param cpuMicrosPerIo this process's CPU time (every thread, spinning included) per I/O over the measured window */
    public record Result(long ops, long errors, double seconds, double iops, double mibPerSec,
                         double p50Micros, double p99Micros, double p999Micros, double meanMicros, String firstError,
                         double cpuMicrosPerIo) {
        public String line(String prefix) {
            return String.format("%s_iops=%.0f%n%s_mibps=%.1f%n%s_p50_us=%.1f%n%s_p99_us=%.1f%n%s_p999_us=%.1f%n%s_errors=%d",
                    prefix, iops, prefix, mibPerSec, prefix, p50Micros, prefix, p99Micros, prefix, p999Micros, prefix, errors);
        }
    }

    private final BlockDevice device;
    private final Options o;
    private final long blocks;
    private volatile boolean measuring;
    private volatile boolean stop;
    private final AtomicLong ops = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicInteger latIndex = new AtomicInteger();
    private final long[] latencies;
    private volatile String firstError;
    private final CountDownLatch finished;

    private RandomIoLoad(BlockDevice device, Options o) {
        this.device = device;
        this.o = o;
        if (o.ioSize() % device.blockSize() != 0 || o.regionOffset() % o.ioSize() != 0 || o.regionLength() < o.ioSize()
                || o.regionOffset() + o.regionLength() > device.size()) {
            throw new IllegalArgumentException("bad load geometry " + o + " for " + device.uri() + " of " + device.size() + " bytes");
        }
        this.blocks = o.regionLength() / o.ioSize();
        this.latencies = new long[(int) Math.min(40_000_000L, Math.max(1_000_000L, o.duration().toSeconds() * 400_000L))];
        this.finished = new CountDownLatch(o.queueDepth());
    }

    public static Result run(BlockDevice device, Options o) throws InterruptedException {
        return new RandomIoLoad(device, o).go();
    }

    private Result go() throws InterruptedException {
        ByteBuffer[] bufs = new ByteBuffer[o.queueDepth()];
        SplittableRandom fill = new SplittableRandom(o.seed());
        for (int i = 0; i < bufs.length; i++) {
            bufs[i] = DmaBuffers.allocate(o.ioSize());
            for (int j = 0; j < o.ioSize(); j += 8) {
                bufs[i].putLong(j, fill.nextLong());
            }
        }
        for (int slot = 0; slot < o.queueDepth(); slot++) {
            SplittableRandom rnd = new SplittableRandom(o.seed() * 31 + slot);
            int s = slot;
            // Each slot starts on its own thread: with a synchronous device (malloc) a slot loops there.
            Thread starter = new Thread(() -> issue(s, bufs[s], rnd), "load-slot-" + s);
            starter.setDaemon(true);
            starter.start();
        }
        TimeUnit.NANOSECONDS.sleep(o.warmup().toNanos()); // a benchmark's timing window, not synchronisation
        ops.set(0);
        errors.set(0);
        latIndex.set(0);
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        measuring = true;
        long t0 = System.nanoTime();
        TimeUnit.NANOSECONDS.sleep(o.duration().toNanos());
        measuring = false;
        long t1 = System.nanoTime();
        long cpuNanos = os.getProcessCpuTime() - cpu0;
        stop = true;
        if (!finished.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("I/O did not drain within 30 s on " + device.uri());
        }
        double secs = (t1 - t0) / 1e9;
        int n = Math.min(latIndex.get(), latencies.length);
        long[] lat = Arrays.copyOf(latencies, n);
        Arrays.sort(lat);
        long count = ops.get();
        double mean = n == 0 ? 0 : Arrays.stream(lat).average().orElse(0) / 1000.0;
        return new Result(count, errors.get(), secs, count / secs, count * (double) o.ioSize() / secs / (1 << 20),
                pct(lat, 0.50), pct(lat, 0.99), pct(lat, 0.999), mean, firstError, count == 0 ? 0 : cpuNanos / 1e3 / count);
    }

    /**
     * Writes every block of the device once with random data and flushes: reads of never-written (sparse, unwritten)
     * ranges never reach the disk and would give impossible figures.
     */
    public static void fill(BlockDevice d) {
        ByteBuffer buf = DmaBuffers.allocate(1 << 20);
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < buf.capacity(); i += 8) {
            buf.putLong(i, rnd.nextLong());
        }
        java.util.List<CompletableFuture<Void>> inflight = new java.util.ArrayList<>();
        for (long off = 0; off < d.size(); off += 1 << 20) {
            inflight.add(d.write(off, buf.duplicate().clear()));
            if (inflight.size() == 16) {
                inflight.forEach(CompletableFuture::join);
                inflight.clear();
            }
        }
        inflight.forEach(CompletableFuture::join);
        d.flush().join();
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] / 1000.0;
    }

    /** Keeps one I/O of this slot in flight; continues from completions, looping when they are synchronous. */
    private void issue(int slot, ByteBuffer buf, SplittableRandom rnd) {
        while (true) {
            if (stop) {
                finished.countDown();
                return;
            }
            long off = o.regionOffset() + rnd.nextLong(blocks) * o.ioSize();
            boolean read = o.readFraction() >= 1.0 || (o.readFraction() > 0 && rnd.nextDouble() < o.readFraction());
            ByteBuffer b = buf.duplicate().clear();
            long start = System.nanoTime();
            CompletableFuture<Void> f = read ? device.read(off, b) : device.write(off, b);
            if (!f.isDone()) {
                f.whenComplete((v, t) -> {
                    record(start, t);
                    issue(slot, buf, rnd);
                });
                return;
            }
            Throwable t = null;
            try {
                f.join();
            } catch (RuntimeException e) {
                t = e;
            }
            record(start, t);
        }
    }

    private void record(long start, Throwable t) {
        long lat = System.nanoTime() - start;
        if (!measuring) {
            return;
        }
        if (t != null) {
            errors.incrementAndGet();
            if (firstError == null) {
                firstError = String.valueOf(t);
            }
            return;
        }
        ops.incrementAndGet();
        int i = latIndex.getAndIncrement();
        if (i < latencies.length) {
            latencies[i] = lat;
        }
    }
}
