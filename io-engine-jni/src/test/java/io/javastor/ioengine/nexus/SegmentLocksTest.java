package io.javastor.ioengine.nexus;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class SegmentLocksTest {

    @Test
    void aCopyWaitsForWritesInFlightAndWritesWaitForTheCopy() {
        SegmentLocks locks = new SegmentLocks(65536);
        assertThat(locks.firstSegment(65536 * 3 + 10)).isEqualTo(3);
        assertThat(locks.lastSegment(65536 * 3 - 4096, 8192)).isEqualTo(3);
        assertThat(locks.acquireShared(2, 3)).as("free segments: granted at once").isNull();
        CompletableFuture<Void> copy = locks.acquireExclusive(3);
        assertThat(copy).isNotDone();
        CompletableFuture<Void> laterWrite = locks.acquireShared(3, 4);
        assertThat(laterWrite).as("a write behind a queued copy waits: the copy cannot starve").isNotNull().isNotDone();
        locks.releaseShared(2, 3);
        assertThat(copy).isDone();
        assertThat(laterWrite).isNotDone();
        locks.releaseExclusive(3);
        assertThat(laterWrite).isDone();
        CompletableFuture<Void> nextCopy = locks.acquireExclusive(4);
        assertThat(nextCopy).as("segment 4 is held shared by the later write").isNotDone();
        locks.releaseShared(3, 4);
        assertThat(nextCopy).isDone();
        locks.releaseExclusive(4);
        assertThat(locks.activeSegments()).isZero();
    }
}
