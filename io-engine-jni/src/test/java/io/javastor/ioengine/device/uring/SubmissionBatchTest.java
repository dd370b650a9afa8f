package io.javastor.ioengine.device.uring;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Submissions in a batch reach the kernel together when the outermost batch closes, and then complete. */
class SubmissionBatchTest {
    @TempDir
    Path dir;

    private static ByteBuffer block(int seed) {
        ByteBuffer b = DmaBuffers.allocate(4096);
        for (int i = 0; i < 4096; i += 8) {
            b.putLong(i, seed * 1_000_003L + i);
        }
        return b;
    }

    @Test
    void queuedWritesWaitForTheOutermostBatchThenLandOnDisk() throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            BlockDevice disk = factory.open("uring://" + dir.resolve("disk.img") + "?size_mb=4");
            // A shared ring, which this thread enters itself (the engine's single-issuer ring takes hand-overs instead).
            UringReactor reactor = factory.loopReactor();
            UringReactor.useForThisThread(reactor);
            try {
                queuedWritesWaitForTheOutermostBatch(disk, reactor);
            } finally {
                UringReactor.useForThisThread(null);
            }
        }
    }

    private void queuedWritesWaitForTheOutermostBatch(BlockDevice disk, UringReactor reactor) throws Exception {
        {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            try (SubmissionBatch outer = SubmissionBatch.open()) {
                try (SubmissionBatch inner = SubmissionBatch.open()) {
                    for (int i = 0; i < 3; i++) {
                        writes.add(disk.write(i * 4096L, block(i)));
                    }
                }
                // Still queued after the inner batch closed: the kernel has not seen them, so none can be done.
                assertThat(reactor.queuedUnsubmitted()).isEqualTo(3);
                assertThat(writes).noneMatch(CompletableFuture::isDone);
            }
            assertThat(reactor.queuedUnsubmitted()).isZero();
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < 3; i++) {
                ByteBuffer back = DmaBuffers.allocate(4096);
                disk.read(i * 4096L, back).get(30, TimeUnit.SECONDS);
                assertThat(back).as("block %d", i).isEqualTo(block(i));
            }
            // Outside a batch an operation goes to the kernel at once.
            CompletableFuture<Void> single = disk.write(8 * 4096L, block(8));
            assertThat(reactor.queuedUnsubmitted()).isZero();
            single.get(30, TimeUnit.SECONDS);
        }
    }
}
