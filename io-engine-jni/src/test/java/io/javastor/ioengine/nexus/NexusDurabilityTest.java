package io.javastor.ioengine.nexus;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.device.malloc.MallocBlockDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.pool.DiskPolicy;
import io.javastor.ioengine.pool.PoolRegistry;
import java.nio.file.Path;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.javastor.ioengine.nexus.NexusTest.BS;
import static io.javastor.ioengine.nexus.NexusTest.SIZE;
import static io.javastor.ioengine.nexus.NexusTest.assertIdentical;
import static io.javastor.ioengine.nexus.NexusTest.block;
import static io.javastor.ioengine.nexus.NexusTest.options;
import static io.javastor.ioengine.nexus.NexusTest.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What the nexus may call in sync, clean or acknowledged (issue 13): only what a flush made durable, only after a
 * missed child's fault is on record, and a caller's read buffer only once no device can still write into it.
 */
class NexusDurabilityTest {
    private final Map<String, BlockDevice> devices = new HashMap<>();
    private final List<Nexus> nexuses = new ArrayList<>();

    @AfterEach
    void destroy() {
        nexuses.forEach(Nexus::destroy);
    }

    private ControllableDevice child(String name) {
        ControllableDevice d = new ControllableDevice(new MallocBlockDevice("malloc:///" + name, SIZE, BS));
        devices.put("malloc:///" + name, d);
        return d;
    }

    private Nexus nexus(NexusOptions options, ChildHealthLedger ledger, String... children) {
        Nexus n = Nexus.create(UUID.randomUUID(), SIZE, List.of(children), devices::get, options, ledger);
        nexuses.add(n);
        return n;
    }

    @Test
    void aRebuiltChildIsInSyncOnlyAfterAFlushOfItCompleted() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        ControllableDevice c = child("c");
        Nexus n = nexus(options(), ChildHealthLedger.NONE, "malloc:///a");
        for (long blk = 0; blk < SIZE / BS; blk += 5) {
            write(n, blk * BS, blk + 1);
        }
        n.addChild("malloc:///b");
        await().atMost(Duration.ofSeconds(30)).until(() -> n.child("malloc:///b").orElseThrow().isOnline());
        assertThat(b.flushes.get()).as("flushes of the rebuilt child").isPositive();
        assertThat(b.unflushedWrites.get()).as("rebuild copies still volatile when the child went Online").isZero();

        c.mode = ControllableDevice.Mode.FAIL_FLUSHES; // the copies land, the flush that would make them durable fails
        n.addChild("malloc:///c");
        NexusRebuildJob job = n.rebuild("malloc:///c").orElseThrow();
        job.awaitEnd();
        assertThat(n.child("malloc:///c").orElseThrow().state()).as("a child whose copies could not be flushed")
                .isInstanceOf(ChildState.Faulted.class);
        assertThat(job.stats().state()).isEqualTo(RebuildState.FAILED);
        assertThat(job.stats().reason()).contains("injected flush failure");
    }

    @Test
    void anOrderlyShutdownFlushesEveryChildAndIsCleanOnlyThen() throws Exception {
        ControllableDevice a = child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options(), ChildHealthLedger.NONE, "malloc:///a", "malloc:///b");
        for (long blk = 0; blk < 64; blk++) {
            write(n, blk * BS, blk + 1);
        }
        assertThat(a.unflushedWrites.get()).isPositive();
        n.destroy();
        assertThat(a.unflushedWrites.get()).as("writes a could still lose after a clean shutdown").isZero();
        assertThat(b.unflushedWrites.get()).as("writes b could still lose after a clean shutdown").isZero();
        assertThat(n.shutdownClean()).isTrue();

        // A child whose flush fails is faulted, and the fault recorded, before the shutdown may call itself clean.
        ControllableDevice c = child("c");
        ControllableDevice d = child("d");
        GatedLedger ledger = new GatedLedger();
        ledger.open();
        Nexus m = nexus(options(), ledger, "malloc:///c", "malloc:///d");
        write(m, 0, 1);
        d.mode = ControllableDevice.Mode.FAIL_FLUSHES;
        m.destroy();
        assertThat(ledger.faulted).as("faults recorded at shutdown").containsExactly("malloc:///d");
        assertThat(m.shutdownClean()).isTrue();
        assertThat(c.unflushedWrites.get()).isZero();
    }

    @Test
    void aShutdownWhoseChildFaultCannotBeRecordedIsNotClean() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        GatedLedger ledger = new GatedLedger(); // never records
        Nexus n = nexus(options().withIoTimeout(Duration.ofMillis(500)), ledger, "malloc:///a", "malloc:///b");
        write(n, 0, 1);
        b.mode = ControllableDevice.Mode.FAIL_FLUSHES;
        n.destroy();
        assertThat(n.shutdownClean()).as("children may differ and that is not on record").isFalse();
    }

    /**
     * A write that finds a child already Faulted skips it; it must wait for that child's fault record even while the
     * thread that faulted it has not yet handed the record over (before: it saw the last completed record and was
     * acknowledged with the child not on record as out of sync).
     */
    @Test
    void aWriteThatSkipsAFaultedChildWaitsForThatChildsFaultRecord() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        GatedLedger ledger = new GatedLedger();
        ledger.blockCaller = true;
        Nexus n = nexus(options(), ledger, "malloc:///a", "malloc:///b");
        b.mode = ControllableDevice.Mode.FAIL_WRITES;
        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> n.write(0, block(0, 1)).join());
        assertThat(ledger.entered.await(10, TimeUnit.SECONDS)).as("the failed write reached the ledger").isTrue();
        assertThat(n.child("malloc:///b").orElseThrow().state()).isInstanceOf(ChildState.Faulted.class);

        CompletableFuture<Void> second = n.write(BS, block(BS, 2)); // skips b: b is Faulted, its record still pending
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> !second.isDone());
        assertThat(first).isNotDone();
        ledger.open();
        second.get(10, TimeUnit.SECONDS);
        first.get(10, TimeUnit.SECONDS);
        assertThat(ledger.faulted).containsExactly("malloc:///b");
    }

    @Test
    void aRefusedFaultRecordFailsTheWritesThatMissedTheChild() throws Exception {
        child("a");
        ControllableDevice b = child("b");
        GatedLedger ledger = new GatedLedger();
        ledger.refuse = true;
        Nexus n = nexus(options(), ledger, "malloc:///a", "malloc:///b");
        b.mode = ControllableDevice.Mode.FAIL_WRITES;
        CompletableFuture<Void> missed = n.write(0, block(0, 1));
        await().atMost(Duration.ofSeconds(10)).until(missed::isDone);
        assertThat(missed).isCompletedExceptionally();
        assertThat(missed.handle((v, t) -> t).join()).hasMessageContaining("could not be recorded");
        CompletableFuture<Void> skipped = n.write(BS, block(BS, 2));
        await().atMost(Duration.ofSeconds(10)).until(skipped::isDone);
        assertThat(skipped).as("a write that skipped the child whose fault is not on record").isCompletedExceptionally();
    }

    /**
     * A read that timed out on one child and was answered by another is handed back only when the first device is done
     * with the caller's buffer: a late answer landing after the hand-back would overwrite data the caller already uses.
     */
    @Test
    void aReadAnsweredByAnotherChildIsHandedBackOnlyWhenTheTimedOutDeviceIsDoneWithTheBuffer() throws Exception {
        ControllableDevice a = child("a");
        ControllableDevice b = child("b");
        Nexus n = nexus(options().withIoTimeout(Duration.ofMillis(300)), ChildHealthLedger.NONE, "malloc:///a", "malloc:///b");
        write(n, 0, 7);
        a.mode = ControllableDevice.Mode.HOLD_READS;
        List<ByteBuffer> buffers = new ArrayList<>();
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (int i = 0; i < 4 && a.heldReads() == 0; i++) { // the nexus spreads reads: one of the first ones goes to a
            ByteBuffer dst = DmaBuffers.allocate(BS);
            buffers.add(dst);
            reads.add(n.read(0, dst));
        }
        assertThat(a.heldReads()).as("a read held by child a").isPositive();
        await().atMost(Duration.ofSeconds(10)).until(() -> n.child("malloc:///a").orElseThrow().state() instanceof ChildState.Faulted);
        int held = reads.size() - 1; // the last read issued is the one a holds
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(2)).until(() -> !reads.get(held).isDone());
        a.answerHeldReads((byte) 0x5A); // the late answer lands in the buffer it was given
        for (CompletableFuture<Void> r : reads) {
            r.get(10, TimeUnit.SECONDS);
        }
        for (ByteBuffer dst : buffers) {
            assertThat(dst).as("what the caller got back, after the late answer landed").isEqualTo(block(0, 7));
        }
        assertIdentical(a.inner(), b.inner(), SIZE);
    }

    /** One writer per replica: a second nexus cannot open a replica another holds, and gets the holder's name. */
    @Test
    void aReplicaHasOneWriterAtATimeAndANewWriterMeansAFullRebuild(@TempDir Path dir) throws Exception {
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults(); PoolRegistry pools = new PoolRegistry(factory, 2.5, DiskPolicy.below(dir, 0))) {
            String disk = "uring://" + dir.resolve("pool.img") + "?size_mb=64";
            pools.createPool("p", List.of(disk), 1 << 20);
            UUID r = UUID.randomUUID();
            int bs = pools.createReplica(r.toString(), "r", "p", SIZE, true).blockSize(); // the file's logical block size
            devices.put("malloc:///a", new ControllableDevice(new MallocBlockDevice("malloc:///a", SIZE, bs)));
            EngineChildDevices engine = new EngineChildDevices(pools, io.javastor.ioengine.reservation.ReservationRegistry.inMemory(),
                    "nqn.2019-05.io.javastor:node-name:test", Duration.ofSeconds(5));
            ChildDeviceOpener opener = new ChildDeviceOpener() {
                @Override
                public BlockDevice open(String uri) {
                    return open(uri, "an unnamed writer");
                }

                @Override
                public BlockDevice open(String uri, String writer) {
                    return uri.startsWith("bdev:") ? engine.open(uri, writer) : devices.get(uri);
                }
            };
            String child = "bdev:///" + r;
            Nexus first = Nexus.create(UUID.randomUUID(), SIZE, List.of("malloc:///a", child), opener, options(), ChildHealthLedger.NONE);
            nexuses.add(first);
            assertThatThrownBy(() -> Nexus.create(UUID.randomUUID(), SIZE, List.of(child), opener, options(), ChildHealthLedger.NONE))
                    .isInstanceOfSatisfying(EngineException.class, e -> {
                        assertThat(e.kind()).isEqualTo(EngineException.Kind.FAILED_PRECONDITION);
                        assertThat(e.getMessage()).contains("replica " + r + " is open for writing by nexus " + first.uuid());
                    });

            // Faulted and re-added by the same nexus, nobody else in between: the same instance, a partial rebuild.
            write(first, 0, 1);
            first.faultChild(child, "test");
            write(first, 5L * NexusTest.SEG, 2);
            first.addChild(child);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.child(child).orElseThrow().isOnline());
            assertThat(first.rebuildHistory().get(0).partial()).as("same writer, same instance: partial").isTrue();

            // Faulted, and meanwhile another nexus wrote to it: its dirty log is not the whole story any more.
            first.faultChild(child, "test");
            await().atMost(Duration.ofSeconds(10)).until(() -> pools.findReplica(r).orElseThrow().writer() == null);
            Nexus other = Nexus.create(UUID.randomUUID(), SIZE, List.of(child), opener, options(), ChildHealthLedger.NONE);
            write(other, 9L * NexusTest.SEG, 99);
            other.destroy();
            first.addChild(child);
            await().atMost(Duration.ofSeconds(60)).until(() -> first.child(child).orElseThrow().isOnline());
            assertThat(first.rebuildHistory().get(1).partial()).as("another writer had it: full").isFalse();

            // Faulted, and its pool re-imported meanwhile (what a kill -9 of its engine does): a new instance, full.
            first.faultChild(child, "test");
            await().atMost(Duration.ofSeconds(10)).until(() -> pools.findReplica(r).orElseThrow().writer() == null);
            pools.exportPool("p");
            pools.importPool("p", List.of(disk));
            write(first, 11L * NexusTest.SEG, 5);
            first.addChild(child);
            await().atMost(Duration.ofSeconds(60)).until(() -> first.child(child).orElseThrow().isOnline());
            assertThat(first.rebuildHistory().get(2).partial()).as("its pool was re-imported: full").isFalse();
            assertIdentical(devices.get("malloc:///a"), pools.findReplica(r).orElseThrow(), SIZE);
        }
    }

    /**
     * Stands in for the core agent's ledger (that one needs a running agent; the agent-side behaviour is tested there):
     * records nothing until opened, and tells when a report arrived.
     */
    static final class GatedLedger implements ChildHealthLedger {
        final CountDownLatch entered = new CountDownLatch(1);
        final List<String> faulted = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final CountDownLatch gate = new CountDownLatch(1);
        private final CompletableFuture<Void> opened = new CompletableFuture<>();

        void open() {
            gate.countDown();
            opened.complete(null);
        }

        /** Holds the reporting thread itself until opened (a report that is slow to be handed over). */
        volatile boolean blockCaller;
        volatile boolean refuse;

        @Override
        public CompletableFuture<Void> childFaulted(UUID nexus, String childUri, String reason) {
            entered.countDown();
            if (refuse) {
                return CompletableFuture.failedFuture(new IllegalStateException("refused: nexus unknown to the agent"));
            }
            if (blockCaller) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return opened.thenRun(() -> faulted.add(childUri));
        }

        @Override
        public void childRebuilt(UUID nexus, String childUri) {
        }

        @Override
        public void nexusGone(UUID nexus) {
        }
    }
}
