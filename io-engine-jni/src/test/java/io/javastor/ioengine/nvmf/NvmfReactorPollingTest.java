package io.javastor.ioengine.nvmf;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The target's socket threads reaping the io_uring reactor themselves (busy poll, then sleeping on the ring's
 * eventfd): data stays right under load from several queues and from local I/O on the same reactor, whose
 * completions they then run too; the reactor's own poller takes over when they go idle or close.
 */
class NvmfReactorPollingTest {
    static final String NQN = "nqn.2019-05.io.javastor:reactor-polling-test";
    static final String HOST = "nqn.2019-05.io.javastor:node-name:test-host";

    @TempDir
    Path dir;

    static ByteBuffer random(int len, long seed) {
        ByteBuffer b = DmaBuffers.allocate(len);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i + 8 <= len; i += 8) {
            b.putLong(i, r.nextLong());
        }
        return b;
    }

    @Test
    void targetLoopsReapTheirOwnDeviceIoAndOthersGoToTheEngineRing() throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            BlockDevice disk = factory.open("uring://" + dir.resolve("disk.img") + "?size_mb=32");
            Set<String> targetReapers = java.util.concurrent.ConcurrentHashMap.newKeySet();
            // What the target exports: the same disk, noting the thread each of its I/Os completed on.
            BlockDevice exported = new io.javastor.ioengine.device.ForwardingBlockDevice(disk) {
                @Override
                public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
                    return super.read(offset, dst).whenComplete((v, t) -> targetReapers.add(Thread.currentThread().getName()));
                }

                @Override
                public CompletableFuture<Void> write(long offset, ByteBuffer src) {
                    return super.write(offset, src).whenComplete((v, t) -> targetReapers.add(Thread.currentThread().getName()));
                }

                @Override
                public void close() {
                }
            };
            NvmfTarget target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(2).withPollReactor(factory.loopReactor()));
            int port = target.start("127.0.0.1", 0).getPort();
            target.addSubsystem(NQN, exported, "JS0002", "Javastor test", Set.of());
            Set<String> reapers = java.util.concurrent.ConcurrentHashMap.newKeySet();
            int blocks = 2048; // 8 MiB in 4 KiB blocks; the first half over NVMe/TCP, the second half locally
            try (NvmfBlockDevice dev = NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/" + NQN,
                    NvmfHostOptions.defaults(HOST).withQueues(2, 64))) {
                for (int round = 0; round < 3; round++) {
                    List<CompletableFuture<Void>> fs = new ArrayList<>();
                    for (int i = 0; i < blocks; i++) {
                        ByteBuffer b = random(4096, round * 100_000L + i);
                        long off = (long) i * 4096;
                        fs.add(i < blocks / 2 ? dev.write(off, b) : disk.write(off, b).whenComplete((v, t) -> reapers.add(Thread.currentThread().getName())));
                    }
                    CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                    fs.clear();
                    List<ByteBuffer> back = new ArrayList<>();
                    for (int i = 0; i < blocks; i++) {
                        ByteBuffer b = DmaBuffers.allocate(4096);
                        back.add(b);
                        long off = (long) i * 4096;
                        // read back crosswise: NVMe/TCP reads what was written locally and the other way round
                        fs.add(i < blocks / 2 ? disk.read(off, b) : dev.read(off, b));
                    }
                    CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                    for (int i = 0; i < blocks; i++) {
                        assertThat(back.get(i)).as("round %d block %d", round, i).isEqualTo(random(4096, round * 100_000L + i));
                    }
                    Thread.sleep(120); // long enough for the loops to go idle and hand the reactor back
                }
                dev.flush().get(10, TimeUnit.SECONDS);
            }
            // The target's device I/O completed on its own socket threads (which reap the loop reactor they submit
            // to), and local I/O on the single-issuer engine reactor's poller, which no other thread may reap.
            assertThat(targetReapers).anyMatch(n -> n.startsWith("nvmf-target"));
            assertThat(factory.reactor().singleIssuer()).as("a kernel of 6.1 or later (DEFER_TASKRUN)").isTrue();
            assertThat(reapers).contains("uring-poller-engine").noneMatch(n -> n.startsWith("nvmf-target"));
            target.close();
            // With the target gone the reactor's own poller completes local I/O again.
            ByteBuffer b = random(4096, 7);
            disk.write(0, b).get(10, TimeUnit.SECONDS);
            ByteBuffer r = DmaBuffers.allocate(4096);
            disk.read(0, r).get(10, TimeUnit.SECONDS);
            assertThat(r).isEqualTo(b);
            disk.close();
        }
    }
}
