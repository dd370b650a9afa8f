package io.javastor.ioengine.device.uring;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The engine's single-issuer ring: other threads hand their I/O to its poller, which alone enters the ring. */
class SingleIssuerReactorTest {
    @TempDir
    Path dir;

    static ByteBuffer block(int thread, int i) {
        ByteBuffer b = DmaBuffers.allocate(4096);
        for (int k = 0; k < 4096; k += 8) {
            b.putLong(k, thread * 1_000_003L + i * 7919L + k);
        }
        return b;
    }

    @Test
    void manyThreadsHandOverTheirIoAndEveryCompletionRunsOnThePoller() throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            BlockDevice disk = factory.open("uring://" + dir.resolve("disk.img") + "?size_mb=16");
            assertThat(factory.reactor().singleIssuer()).as("a kernel of 6.1 or later (DEFER_TASKRUN)").isTrue();
            Set<String> reapers = ConcurrentHashMap.newKeySet();
            int threads = 4;
            int perThread = 256; // 4 x 256 blocks of 4 KiB: 4 MiB, more at once than the ring's 256 slots
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> new Thread(r, "submitter"));
            for (int t = 0; t < threads; t++) {
                int thread = t;
                writers.add(CompletableFuture.runAsync(() -> {
                    List<CompletableFuture<Void>> ios = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        ios.add(disk.write((long) (thread * perThread + i) * 4096, block(thread, i))
                                .whenComplete((v, e) -> reapers.add(Thread.currentThread().getName())));
                    }
                    CompletableFuture.allOf(ios.toArray(CompletableFuture[]::new)).join();
                }, pool));
            }
            CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            pool.shutdown();
            for (int t = 0; t < threads; t++) {
                for (int i = 0; i < perThread; i++) {
                    ByteBuffer back = DmaBuffers.allocate(4096);
                    disk.read((long) (t * perThread + i) * 4096, back).get(30, TimeUnit.SECONDS);
                    assertThat(back).as("thread %d block %d", t, i).isEqualTo(block(t, i));
                }
            }
            // A callback attached after its I/O completed runs on the attaching thread; no other thread reaped.
            assertThat(reapers).contains("uring-poller-engine").isSubsetOf("uring-poller-engine", "submitter");
            disk.close();
        }
    }

    @Test
    void closingWhileThreadsSubmitCompletesEveryOperationExactlyOnce() throws Exception {
        UringReactor reactor = new UringReactor("closing", 64, 10, 0, true);
        assertThat(reactor.singleIssuer()).isTrue();
        int max = 4_000_000; // an upper bound: the submitters stop once submissions are being refused
        AtomicIntegerArray completions = new AtomicIntegerArray(max);
        AtomicInteger submitted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            Thread th = new Thread(() -> {
                int id;
                while (refused.get() < 100 && (id = submitted.getAndIncrement()) < max) {
                    int op = id;
                    reactor.submit(NativeIo.OP_NOP, -1, 0, 0, 0, res -> {
                        completions.incrementAndGet(op);
                        if (res == -108) {
                            refused.incrementAndGet();
                        } else if (res != 0) {
                            failed.incrementAndGet();
                        }
                    });
                }
            });
            th.start();
            submitters.add(th);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> submitted.get() > 1_000);
        reactor.close();
        for (Thread th : submitters) {
            th.join(60_000);
        }
        int total = Math.min(submitted.get(), max);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            int done = 0;
            for (int i = 0; i < total; i++) {
                done += completions.get(i) > 0 ? 1 : 0;
            }
            assertThat(done).as("operations completed of %d submitted", total).isEqualTo(total);
        });
        for (int i = 0; i < total; i++) {
            assertThat(completions.get(i)).as("completions of operation %d", i).isEqualTo(1);
        }
        assertThat(failed.get()).as("NOPs that failed with anything but ESHUTDOWN").isZero();
        assertThat(refused.get()).as("submissions after close are refused").isPositive();
    }

    /** Whether this process still holds a descriptor of {@code file}. */
    private static boolean fdOpenOn(Path file) throws java.io.IOException {
        try (java.util.stream.Stream<Path> fds = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return java.nio.file.Files.readSymbolicLink(fd).equals(file);
                } catch (java.io.IOException e) {
                    return false; // the listing's own descriptor, gone by now
                }
            });
        }
    }

    @Test
    void closingADeviceWithOperationsHandedOverKeepsItsFdUntilTheLastOneCompletes() throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            for (int round = 0; round < 20; round++) {
                Path file = dir.resolve("closing-" + round + ".img");
                BlockDevice disk = factory.open("uring://" + file + "?size_mb=4");
                List<CompletableFuture<Void>> writes = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    writes.add(disk.write((long) i * 4096, block(round, i)));
                }
                disk.close(); // with most of the writes still handed over or in flight
                for (CompletableFuture<Void> w : writes) {
                    try {
                        w.get(30, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                        // Refused because the device closed first is fine; a bad descriptor (EBADF) would mean an
                        // operation reached a closed (and maybe recycled) fd number.
                        assertThat(e.getCause()).isInstanceOf(io.javastor.ioengine.device.BlockIoException.class);
                        assertThat(((io.javastor.ioengine.device.BlockIoException) e.getCause()).errno())
                                .as("round %d write %d", round, writes.indexOf(w)).isEqualTo(io.javastor.ioengine.device.BlockIoException.ESHUTDOWN);
                    }
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> !fdOpenOn(file.toRealPath()));
            }
        }
    }
}
