package io.javastor.ioengine.device;

import java.util.concurrent.atomic.LongAdder;

/**
 * I/O counters and a latency histogram of one device (a replica, a nexus), cheap enough for the hot path
 * (striped adders, log2 buckets). Metrics export (Prometheus) reads them; no metrics library on the I/O path.
 */
public final class IoStats {
    public enum Kind { READ, WRITE, FLUSH, WRITE_ZEROES, UNMAP }

    /** Bucket i counts latencies in [2^i, 2^(i+1)) microseconds; bucket 0 also holds < 1 us. */
    public static final int BUCKETS = 24;

    private final LongAdder[] bytes = adders(Kind.values().length);
    private final LongAdder[] errors = adders(Kind.values().length);
    private final LongAdder[] nanos = adders(Kind.values().length);
    private final LongAdder[][] latency = new LongAdder[Kind.values().length][];

    public IoStats() {
        for (int k = 0; k < latency.length; k++) {
            latency[k] = adders(BUCKETS);
        }
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    public void record(Kind kind, long byteCount, long elapsedNanos, boolean ok) {
        int k = kind.ordinal();
        if (!ok) {
            errors[k].increment();
            return;
        }
        bytes[k].add(byteCount);
        nanos[k].add(elapsedNanos);
        long us = elapsedNanos / 1000;
        int b = us <= 1 ? 0 : Math.min(BUCKETS - 1, 63 - Long.numberOfLeadingZeros(us));
        latency[k][b].increment();
    }

    /** Every op counted once: in its latency bucket, or as an error (no adder of its own: one less on the I/O path). */
    public long ops(Kind k) {
        return errors[k.ordinal()].sum() + completed(k);
    }

    /** The ops that succeeded (the latency histogram's count): read from the buckets alone, so it never goes down. */
    public long completed(Kind k) {
        long n = 0;
        for (LongAdder b : latency[k.ordinal()]) {
            n += b.sum();
        }
        return n;
    }

    public long bytes(Kind k) {
        return bytes[k.ordinal()].sum();
    }

    public long errors(Kind k) {
        return errors[k.ordinal()].sum();
    }

    public long totalNanos(Kind k) {
        return nanos[k.ordinal()].sum();
    }

    /** Count of completed ops per log2-microsecond bucket. */
    public long[] latencyBuckets(Kind k) {
        long[] out = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            out[i] = latency[k.ordinal()][i].sum();
        }
        return out;
    }
}
