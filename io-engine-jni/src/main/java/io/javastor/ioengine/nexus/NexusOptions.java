package io.javastor.ioengine.nexus;

import java.time.Duration;

/**
 * Tunables of a nexus.
 *
 * @param segmentSize        granularity of rebuild copies, range locks and dirty-segment logs (a power of two, a multiple of 4 KiB)
 * @param ioTimeout          a child I/O not finished by then counts as failed (the child is faulted), so a hung child cannot hang the nexus
 * @param rebuildConcurrency segment copies a rebuild keeps in flight
 * @param drainTimeout       how long a re-added child's previous opening may take to finish its in-flight I/O before a full rebuild is chosen instead
 */
public record NexusOptions(int segmentSize, Duration ioTimeout, int rebuildConcurrency, Duration drainTimeout) {
    public NexusOptions {
        if (segmentSize < 4096 || Integer.bitCount(segmentSize) != 1 || ioTimeout.isNegative() || ioTimeout.isZero()
                || rebuildConcurrency < 1 || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("bad nexus options " + segmentSize + " " + ioTimeout + " " + rebuildConcurrency);
        }
    }

    public static NexusOptions defaults() {
        return new NexusOptions(256 * 1024, Duration.ofSeconds(10), 8, Duration.ofSeconds(15));
    }

    public NexusOptions withIoTimeout(Duration d) {
        return new NexusOptions(segmentSize, d, rebuildConcurrency, drainTimeout);
    }

    public NexusOptions withSegmentSize(int bytes) {
        return new NexusOptions(bytes, ioTimeout, rebuildConcurrency, drainTimeout);
    }

    public NexusOptions withRebuildConcurrency(int n) {
        return new NexusOptions(segmentSize, ioTimeout, n, drainTimeout);
    }
}
