package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.malloc.MallocBlockDevice;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.replica.Replica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The nexus over real in-memory devices and pool replicas, with failures injected by {@link ControllableDevice}. */
class NexusTest {
    static final int BS = 4096;
    static final long SIZE = 16L << 20;
    static final int SEG = 64 * 1024;

    final Map<String, BlockDevice> devices = new HashMap<>();
    final List<Nexus> nexuses = new ArrayList<>();

    @AfterEach
    void destroy() {
        nexuses.forEach(Nexus::destroy);
    }

    ControllableDevice child(String name) {
        ControllableDevice d = new ControllableDevice(new MallocBlockDevice("malloc:///" + name, SIZE, BS));
        devices.put("malloc:///" + name, d);
        return d;
    }

    Nexus nexus(NexusOptions options, String... children) {
        Nexus n = Nexus.create(UUID.randomUUID(), SIZE, List.of(children), uri -> {
            BlockDevice d = devices.get(uri);
            if (d == null) {
                throw new IllegalArgumentException("no device " + uri);
            }
            return d;
        }, options);
        nexuses.add(n);
        return n;
    }

    static NexusOptions options() {
        return NexusOptions.defaults().withSegmentSize(SEG).withIoTimeout(Duration.ofSeconds(5));
    }

    /** A block that names itself: its offset and a sequence number, then filler derived from both. */
    static ByteBuffer block(long offset, long seq) {
        ByteBuffer b = DmaBuffers.allocate(BS);
        b.putLong(0, offset).putLong(8, seq);
        for (int i = 16; i < BS; i += 8) {
            b.putLong(i, offset * 31 + seq * 17 + i);
        }
        return b;
    }

    static long seqAt(BlockDevice d, long offset) throws Exception {
        ByteBuffer b = DmaBuffers.allocate(BS);
        d.read(offset, b).get(10, TimeUnit.SECONDS);
        assertThat(b.getLong(0)).as("offset stamp of block at %d on %s", offset, d.uri()).isIn(offset, 0L);
        assertThat(b).isEqualTo(block(b.getLong(0), b.getLong(8)).clear());
        return b.getLong(8);
    }

    static void assertIdentical(BlockDevice a, BlockDevice b, long size) throws Exception {
        ByteBuffer x = DmaBuffers.allocate(1 << 20);
        ByteBuffer y = DmaBuffers.allocate(1 << 20);
        for (long off = 0; off < size; off += 1 << 20) {
            x.clear();
            y.clear();
            a.read(off, x).get(10, TimeUnit.SECONDS);
            b.read(off, y).get(10, TimeUnit.SECONDS);
            if (!x.equals(y)) {
                for (int i = 0; i < x.capacity(); i += BS) {
                    assertThat(y.slice(i, BS)).as("block at %d: %s vs %s", off + i, a.uri(), b.uri()).isEqualTo(x.slice(i, BS));
                }
            }
        }
    }

    static void write(BlockDevice d, long offset, long seq) throws Exception {
        d.write(offset, block(offset, seq)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void writesReachEveryChildAndReadsComeBack() throws Exception {
        child("a");
        child("b");
        child("c");
        Nexus n = nexus(options(), "malloc:///a", "malloc:///b", "malloc:///c");
        SplittableRandom rnd = new SplittableRandom(1);
        Map<Long, Long> model = new HashMap<>();
        for (int i = 0; i < 500; i++) {
            long off = rnd.nextLong(SIZE / BS) * BS;
            write(n, off, i + 1);
            model.put(off, (long) i + 1);
        }
        n.writeZeroes(0, SEG).get(5, TimeUnit.SECONDS);
        model.keySet().removeIf(o -> o < SEG);
        n.flush().get(5, TimeUnit.SECONDS);
        for (var e : model.entrySet()) {
            assertThat(seqAt(n, e.getKey())).isEqualTo(e.getValue());
        }
        assertIdentical(devices.get("malloc:///a"), devices.get("malloc:///b"), SIZE);
        assertIdentical(devices.get("malloc:///a"), devices.get("malloc:///c"), SIZE);
        assertThat(n.state()).isInstanceOf(NexusState.Online.class);
        assertThat(n.locks().activeSegments()).isZero();
    }

    @Test
    void aChildFailingAWriteIsFaultedAndTheWriteSucceedsFromTheOthers() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options(), "malloc:///a", "malloc:///b");
        b.mode = ControllableDevice.Mode.FAIL_WRITES;
        write(n, 8 * BS, 7);
        NexusChild cb = n.child("malloc:///b").orElseThrow();
        assertThat(cb.state()).isInstanceOf(ChildState.Faulted.class);
        assertThat(cb.state().reason()).contains("write at 32768 failed").contains("errno 5");
        assertThat(n.state()).isInstanceOf(NexusState.Degraded.class);
        assertThat(n.state().reason()).contains("malloc:///b Faulted");
        long writesBefore = b.writes.get();
        write(n, 9 * BS, 8);
        assertThat(b.writes.get()).as("a faulted child is out of the I/O path").isEqualTo(writesBefore);
        assertThat(seqAt(n, 8 * BS)).isEqualTo(7);
        assertThat(cb.dirtySegments()).isEqualTo(1);
    }

    /** A ledger the test answers by hand: what the core agent does over gRPC in production (TargetCrashTest). */
    static final class HeldLedger implements ChildHealthLedger {
        final java.util.concurrent.ConcurrentLinkedQueue<String> faulted = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final java.util.concurrent.ConcurrentLinkedQueue<String> rebuilt = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final CompletableFuture<Void> answer = new CompletableFuture<>();

        @Override
        public CompletableFuture<Void> childFaulted(UUID nexus, String childUri, String reason) {
            faulted.add(childUri);
            return answer;
        }

        @Override
        public void childRebuilt(UUID nexus, String childUri) {
            rebuilt.add(childUri);
        }

        @Override
        public void nexusGone(UUID nexus) {
            answer.completeExceptionally(new java.util.concurrent.CancellationException("nexus gone"));
        }
    }

    Nexus nexus(ChildHealthLedger ledger, String... children) {
        Nexus n = Nexus.create(UUID.randomUUID(), SIZE, List.of(children), devices::get, options(), ledger);
        nexuses.add(n);
        return n;
    }

    @Test
    void aWriteAFaultedChildMissedIsAcknowledgedOnlyOnceTheFaultIsOnRecord() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        HeldLedger ledger = new HeldLedger();
        Nexus n = nexus(ledger, "malloc:///a", "malloc:///b");
        write(n, 0, 1);
        assertThat(ledger.faulted).as("nothing to record while every child takes the writes").isEmpty();
        b.mode = ControllableDevice.Mode.FAIL_WRITES;
        CompletableFuture<Void> missed = n.write(BS, block(BS, 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.faulted.contains("malloc:///b"));
        CompletableFuture<Void> later = n.write(2 * BS, block(2 * BS, 3));
        // Both writes are on child a already; neither may be acknowledged before the record.
        await().atMost(Duration.ofSeconds(10)).until(() -> b.writes.get() >= 1);
        assertThat(missed).as("held until the fault is recorded").isNotDone();
        assertThat(later).as("a later write also misses b: held as well").isNotDone();
        ledger.answer.complete(null);
        missed.get(10, TimeUnit.SECONDS);
        later.get(10, TimeUnit.SECONDS);
        assertThat(seqAt(n, BS)).isEqualTo(2);
        write(n, 3 * BS, 4); // recorded: no more waiting
    }

    @Test
    void writesWaitingForTheRecordFailWhenTheNexusShutsDownAndARebuiltChildIsReported() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        HeldLedger ledger = new HeldLedger();
        Nexus n = nexus(ledger, "malloc:///a", "malloc:///b");
        b.mode = ControllableDevice.Mode.FAIL_WRITES;
        CompletableFuture<Void> missed = n.write(0, block(0, 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.faulted.contains("malloc:///b"));
        b.mode = ControllableDevice.Mode.NORMAL;
        n.addChild("malloc:///b");
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.rebuilt.contains("malloc:///b"));
        assertThat(missed).as("still not on record").isNotDone();
        n.destroy();
        assertThatThrownBy(() -> missed.get(10, TimeUnit.SECONDS)).as("never acknowledged").hasCauseInstanceOf(BlockIoException.class)
                .hasMessageContaining("could not be recorded");
    }

    @Test
    void aHungChildTimesOutInsteadOfHangingTheNexus() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options().withIoTimeout(Duration.ofMillis(300)), "malloc:///a", "malloc:///b");
        b.mode = ControllableDevice.Mode.HANG;
        long t0 = System.nanoTime();
        write(n, 0, 1);
        // Answered once the hung child timed out (300 ms and a sweep), not hung: the bound leaves a loaded machine room.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        assertThat(n.child("malloc:///b").orElseThrow().state().reason()).contains("errno 110");
        assertThat(seqAt(n, 0)).isEqualTo(1);
    }

    @Test
    void theLastHealthyChildFailingGivesACleanErrorNotAHang() throws Exception {
        ControllableDevice a = child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options().withIoTimeout(Duration.ofMillis(300)), "malloc:///a", "malloc:///b");
        write(n, 0, 1);
        a.mode = ControllableDevice.Mode.FAIL_ALL;
        write(n, BS, 2); // b takes it
        b.mode = ControllableDevice.Mode.HANG;
        CompletableFuture<Void> w = n.write(2 * BS, block(2 * BS, 3));
        assertThatThrownBy(() -> w.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(BlockIoException.class).hasMessageContaining("no healthy child");
        assertThat(BlockIoException.unwrap(catchCause(w)).errno()).isEqualTo(BlockIoException.EIO);
        assertThat(n.state()).isInstanceOf(NexusState.Faulted.class);
        CompletableFuture<Void> r = n.read(0, DmaBuffers.allocate(BS));
        assertThatThrownBy(() -> r.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(BlockIoException.class)
                .hasMessageContaining("no healthy child left");
        CompletableFuture<Void> f = n.flush();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause().isInstanceOf(BlockIoException.class);
        assertThatThrownBy(() -> n.addChild("malloc:///a")).hasMessageContaining("no healthy child to rebuild");
    }

    private static Throwable catchCause(CompletableFuture<?> f) {
        return f.handle((v, t) -> t).join();
    }

    @Test
    void readsAreBalancedAndRetriedOnAnotherChild() throws Exception {
        ControllableDevice a = child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options(), "malloc:///a", "malloc:///b");
        write(n, 0, 42);
        for (int i = 0; i < 200; i++) {
            assertThat(seqAt(n, 0)).isEqualTo(42);
        }
        assertThat(a.reads.get()).isBetween(80L, 120L);
        assertThat(b.reads.get()).isBetween(80L, 120L);
        a.mode = ControllableDevice.Mode.FAIL_READS;
        for (int i = 0; i < 4; i++) {
            assertThat(seqAt(n, 0)).as("read retried on b").isEqualTo(42);
        }
        assertThat(n.child("malloc:///a").orElseThrow().state()).isInstanceOf(ChildState.Faulted.class);
        assertThat(n.child("malloc:///a").orElseThrow().state().reason()).contains("read at 0 failed");
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void rebuildUnderConcurrentRandomWritesLeavesEveryChildIdentical(long seed) throws Exception {
        child("a");
        child("b");
        ControllableDevice c = child("c");
        Nexus n = nexus(options().withRebuildConcurrency(2), "malloc:///a", "malloc:///b");
        long blocks = SIZE / BS;
        AtomicLongArray acked = new AtomicLongArray((int) blocks);
        SplittableRandom fill = new SplittableRandom(seed);
        for (int i = 0; i < 2000; i++) {
            long blk = fill.nextLong(blocks);
            write(n, blk * BS, i + 1);
            acked.set((int) blk, i + 1);
        }
        c.delayMicros = 2000; // slow the new child so the rebuild and the writers overlap for a while
        int writers = 4;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong duringRebuild = new AtomicLong();
        AtomicLong total = new AtomicLong();
        List<CompletableFuture<Void>> running = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int me = w;
            running.add(CompletableFuture.runAsync(() -> {
                SplittableRandom rnd = new SplittableRandom(seed * 100 + me);
                long seq = 1_000_000L * (me + 1);
                while (!stop.get()) {
                    long blk = rnd.nextLong(blocks / writers) * writers + me; // each writer owns its blocks: the model is exact
                    seq++;
                    n.write(blk * BS, block(blk * BS, seq)).join();
                    acked.set((int) blk, seq);
                    total.incrementAndGet();
                    if (n.rebuild("malloc:///c").isPresent()) {
                        duringRebuild.incrementAndGet();
                    }
                }
            }));
        }
        try {
            await("writers under way").atMost(Duration.ofSeconds(10)).until(() -> total.get() > 100);
            n.addChild("malloc:///c");
            // The rebuild waits, once under way, until writes went on beside it: a loaded machine can otherwise keep the
            // writers off the CPU for the whole (quarter-second) rebuild.
            n.rebuild("malloc:///c").ifPresent(job -> {
                job.pause();
                try {
                    long before = duringRebuild.get();
                    await("writes beside the paused rebuild").atMost(Duration.ofSeconds(60)).until(() -> duringRebuild.get() > before + 20);
                } finally {
                    job.resume();
                }
            });
            try {
                await("rebuild of c").atMost(Duration.ofSeconds(120)).until(() -> n.child("malloc:///c").orElseThrow().isOnline());
            } catch (org.awaitility.core.ConditionTimeoutException stalled) {
                // A rare stall seen twice in full-suite runs (never alone): leave what is needed to explain it.
                System.out.println("REBUILD STALL: " + n.rebuild("malloc:///c").map(NexusRebuildJob::stats) + " locks active="
                        + n.locks().activeSegments() + " state=" + n.state() + " c=" + n.child("malloc:///c").orElseThrow().state());
                Thread.getAllStackTraces().forEach((t, st) -> {
                    if (t.getName().startsWith("rebuild-") || t.getName().startsWith("test-device-delay")
                            || t.getName().startsWith("nexus-") || t.getName().startsWith("ForkJoinPool")) {
                        System.out.println("THREAD " + t.getName() + " " + t.getState() + "\n  "
                                + String.join("\n  ", java.util.Arrays.stream(st).map(String::valueOf).toList()));
                    }
                });
                throw stalled;
            }
        } finally {
            stop.set(true); // whatever happened, the writers stop before the nexus is destroyed
        }
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(duringRebuild.get()).as("writes acknowledged while the rebuild ran").isGreaterThan(20);
        RebuildStats s = n.rebuildHistory().get(0);
        assertThat(s.state()).isEqualTo(RebuildState.COMPLETED);
        assertThat(s.partial()).isFalse();
        assertThat(s.blocksRecovered()).isEqualTo(s.blocksTotal()).isEqualTo(SIZE / BS);
        c.delayMicros = 0;
        assertIdentical(devices.get("malloc:///a"), c, SIZE);
        assertIdentical(devices.get("malloc:///a"), devices.get("malloc:///b"), SIZE);
        for (int blk = 0; blk < blocks; blk++) {
            if (acked.get(blk) != 0) {
                assertThat(seqAt(c, (long) blk * BS)).as("block %d on the rebuilt child", blk).isEqualTo(acked.get(blk));
            }
        }
        assertThat(n.state()).isInstanceOf(NexusState.Online.class);
        assertThat(n.locks().activeSegments()).isZero();
    }

    @Test
    void aChildBackFromAFaultGetsOnlyTheSegmentsWrittenMeanwhile() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options(), "malloc:///a", "malloc:///b");
        for (long blk = 0; blk < SIZE / BS; blk += 7) {
            write(n, blk * BS, 1);
        }
        b.mode = ControllableDevice.Mode.FAIL_WRITES; // faulted by a failed I/O: segment 3
        write(n, 3L * SEG + BS, 2);
        NexusChild cb = n.child("malloc:///b").orElseThrow();
        assertThat(cb.state()).isInstanceOf(ChildState.Faulted.class);
        write(n, 10L * SEG, 3); // while away: segment 10, then 11 and 12 (one write spanning both), then 100
        n.write(12L * SEG - BS, DmaBuffers.allocate(2 * BS)).get(5, TimeUnit.SECONDS);
        write(n, 100L * SEG + 5 * BS, 4);
        assertThat(cb.dirtySegments()).isEqualTo(5);
        b.mode = ControllableDevice.Mode.NORMAL;
        long writesBefore = b.writes.get();
        n.addChild("malloc:///b");
        await().atMost(Duration.ofSeconds(10)).until(() -> cb.isOnline());
        RebuildStats s = n.rebuildHistory().get(0);
        assertThat(s.partial()).isTrue();
        assertThat(s.state()).isEqualTo(RebuildState.COMPLETED);
        assertThat(s.blocksTotal()).isEqualTo(5L * SEG / BS).isEqualTo(s.blocksRecovered());
        assertThat(s.sourceUri()).isEqualTo("malloc:///a");
        assertThat(b.writes.get() - writesBefore).as("one write per dirty segment").isEqualTo(5);
        assertIdentical(devices.get("malloc:///a"), b, SIZE);
        assertThat(n.state()).isInstanceOf(NexusState.Online.class);
    }

    @Test
    void aRebuildReadThatTimesOutButLandsLateCannotCorruptTheCopy() throws Exception {
        ControllableDevice a = child("a");
        ControllableDevice b = child("b");
        ControllableDevice c = child("c");
        Nexus n = nexus(options().withIoTimeout(Duration.ofMillis(300)).withRebuildConcurrency(4), "malloc:///a", "malloc:///b");
        for (long blk = 0; blk < SIZE / BS; blk += 3) {
            write(n, blk * BS, blk + 1);
        }
        a.mode = ControllableDevice.Mode.HOLD_READS; // the rebuild's source: its first reads time out, unanswered
        c.delayMicros = 20_000; // copies sit in their buffers a while before the target takes the data
        n.addChild("malloc:///c");
        NexusRebuildJob job = n.rebuild("malloc:///c").orElseThrow();
        await().atMost(Duration.ofSeconds(30)).until(() -> job.stats().blocksRecovered() > 0);
        assertThat(n.child("malloc:///a").orElseThrow().state()).isInstanceOf(ChildState.Faulted.class);
        assertThat(job.stats().sourceUri()).isEqualTo("malloc:///b");
        assertThat(a.heldReads()).isPositive();
        // The timed-out reads answer now, mid-rebuild, filling the buffers they were given: those buffers must not
        // be carrying another segment's copy meanwhile.
        a.answerHeldReads((byte) 0x5A);
        await().atMost(Duration.ofSeconds(60)).until(() -> n.child("malloc:///c").orElseThrow().isOnline());
        assertThat(job.stats().state()).isEqualTo(RebuildState.COMPLETED);
        assertIdentical(b, c, SIZE);
    }

    @Test
    void rebuildPausesResumesAndCancelsAndKeepsAHistory() throws Exception {
        child("a");
        ControllableDevice c = child("c");
        ControllableDevice d = child("d");
        Nexus n = nexus(options().withRebuildConcurrency(1), "malloc:///a");
        for (long blk = 0; blk < SIZE / BS; blk += 3) {
            write(n, blk * BS, blk + 1);
        }
        c.delayMicros = 3000;
        n.addChild("malloc:///c");
        NexusRebuildJob job = n.rebuild("malloc:///c").orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> job.stats().blocksRecovered() > 0);
        job.pause();
        assertThat(job.stats().state()).isEqualTo(RebuildState.PAUSED);
        AtomicLong seen = new AtomicLong(-1);
        // Paused: after the copy in flight lands, progress stands still.
        await().atMost(Duration.ofSeconds(5)).during(Duration.ofMillis(400))
                .until(() -> seen.getAndSet(job.stats().blocksRecovered()) == job.stats().blocksRecovered());
        assertThat(job.stats().percent()).isBetween(0, 99);
        assertThat(n.child("malloc:///c").orElseThrow().state()).isInstanceOf(ChildState.Degraded.class);
        job.resume();
        await().atMost(Duration.ofSeconds(60)).until(() -> n.child("malloc:///c").orElseThrow().isOnline());
        assertThat(job.stats().state()).isEqualTo(RebuildState.COMPLETED);
        assertThat(job.stats().percent()).isEqualTo(100);

        d.delayMicros = 3000;
        n.addChild("malloc:///d");
        NexusRebuildJob second = n.rebuild("malloc:///d").orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> second.stats().blocksRecovered() > 0);
        second.cancel("test cancel");
        second.awaitEnd();
        RebuildStats cancelled = second.stats();
        assertThat(cancelled.state()).isEqualTo(RebuildState.CANCELLED);
        assertThat(cancelled.reason()).isEqualTo("test cancel");
        NexusChild cd = n.child("malloc:///d").orElseThrow();
        assertThat(cd.state()).isInstanceOf(ChildState.Faulted.class);
        long missing = (cancelled.blocksTotal() - cancelled.blocksRecovered()) * BS / SEG;
        assertThat(cd.dirtySegments()).as("a cancelled rebuild remembers what it did not copy").isEqualTo(missing);

        d.delayMicros = 0;
        n.addChild("malloc:///d");
        await().atMost(Duration.ofSeconds(30)).until(() -> cd.isOnline());
        List<RebuildStats> h = n.rebuildHistory();
        assertThat(h).extracting(RebuildStats::childUri, RebuildStats::state, RebuildStats::partial).containsExactly(
                org.assertj.core.groups.Tuple.tuple("malloc:///c", RebuildState.COMPLETED, false),
                org.assertj.core.groups.Tuple.tuple("malloc:///d", RebuildState.CANCELLED, false),
                org.assertj.core.groups.Tuple.tuple("malloc:///d", RebuildState.COMPLETED, true));
        assertThat(h.get(2).blocksTotal()).isEqualTo(missing * SEG / BS);
        assertThat(h).allSatisfy(r -> assertThat(r.end()).isAfterOrEqualTo(r.start()));
        assertIdentical(devices.get("malloc:///a"), c, SIZE);
        assertIdentical(devices.get("malloc:///a"), d, SIZE);
    }

    @Test
    void aThinLocalSourceCopiesOnlyItsAllocatedClusters() throws Exception {
        MallocBlockDevice disk = new MallocBlockDevice("malloc:///thin-pool", 128L << 20, BS);
        Pool pool = Pool.create("malloc:///thin-pool?size_mb=128&blk_size=4096", disk, "thin", 1 << 20, 2.5);
        try {
            Replica src = pool.createReplica(UUID.randomUUID(), "src", SIZE, true);
            Replica dst = pool.createReplica(UUID.randomUUID(), "dst", SIZE, true);
            devices.put(src.uri(), src);
            devices.put(dst.uri(), dst);
            Nexus n = nexus(options(), src.uri());
            for (long mib : new long[]{0, 5, 13}) {
                write(n, (mib << 20) + 2 * BS, mib + 1);
            }
            n.addChild(dst.uri());
            await().atMost(Duration.ofSeconds(30)).until(() -> n.child(dst.uri()).orElseThrow().isOnline());
            assertThat(dst.allocatedBytes()).isEqualTo(src.allocatedBytes()).isEqualTo(3L << 20);
            assertIdentical(src, dst, SIZE);
            assertThat(seqAt(dst, (13L << 20) + 2 * BS)).isEqualTo(14);
            n.destroy();
        } finally {
            pool.close();
        }
    }

    @Test
    void removeAndFaultRefuseToDropTheLastHealthyChildAndDestroyShutsDown() throws Exception {
        child("a");
        child("b");
        Nexus n = nexus(options(), "malloc:///a", "malloc:///b");
        n.faultChild("malloc:///b", "maintenance");
        assertThat(n.child("malloc:///b").orElseThrow().state().reason()).isEqualTo("maintenance");
        assertThatThrownBy(() -> n.faultChild("malloc:///a", "")).hasMessageContaining("last healthy child");
        assertThatThrownBy(() -> n.removeChild("malloc:///a")).hasMessageContaining("last healthy child");
        n.removeChild("malloc:///b");
        assertThat(n.children()).extracting(NexusChild::uri).containsExactly("malloc:///a");
        assertThat(n.state()).isInstanceOf(NexusState.Online.class);
        n.destroy();
        assertThat(n.state()).isInstanceOf(NexusState.Shutdown.class);
        assertThatThrownBy(() -> n.write(0, block(0, 1)).get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(BlockIoException.class).hasMessageContaining("Shutdown");
    }
}
