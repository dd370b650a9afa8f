package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.EngineException.Kind;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.BlockIoException;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.replica.Replica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.javastor.ioengine.pool.CrashStream.BLOCK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Replica snapshots and clones on a real file through io_uring: a snapshot's image never changes while its replica is
 * written (random writes at queue depth 16, one taken while writes are in flight), survives a re-import, clones start
 * as the image and diverge on their own, and deleting snapshots (kept while clones read through them, then merged)
 * never changes what anybody reads and leaks no cluster. Crash safety of the same operations: {@link PowerCutTest}.
 */
class SnapshotTest {
    private static final long MiB = 1 << 20;
    private static final long REPLICA = 24 * MiB;
    private static final int BLOCKS = (int) (REPLICA / BLOCK);

    @TempDir
    Path dir;
    private BlockDeviceFactory devices;
    private PoolRegistry registry;
    private String disk;

    @BeforeEach
    void start() {
        disk = "uring://" + dir.resolve("disk.img") + "?size_mb=256";
        devices = BlockDeviceFactory.withDefaults();
        registry = new PoolRegistry(devices, 2.0, DiskPolicy.below(dir, 64));
    }

    @AfterEach
    void stop() {
        registry.close();
        devices.close();
    }

    private Pool reimport() {
        registry.close();
        devices.close();
        devices = BlockDeviceFactory.withDefaults();
        registry = new PoolRegistry(devices, 2.0, DiskPolicy.below(dir, 64));
        return registry.importPool("p", List.of(disk));
    }

    @Test
    void snapshotImagesNeverChangeAndDeletionsKeepEveryoneElsesData() throws Exception {
        Pool created = registry.createPool("p", List.of(disk), MiB);
        Pool pool = created;
        UUID rid = UUID.randomUUID();
        Replica replica = pool.createReplica(rid, "r", REPLICA, false);
        WriteHistory writer = new WriteHistory(BLOCKS);
        writer.run(replica, 3000);
        long[] image1 = writer.image();
        UUID s1 = UUID.randomUUID();
        Replica snap1 = pool.createSnapshot(rid, s1, "s1", 7);
        assertThat(replica.thin()).as("a snapshotted replica allocates on write").isTrue();
        WriteHistory.assertImage(snap1, image1, "snapshot 1 right after it was taken");

        // Snapshot 2 is taken while writes are in flight.
        UUID s2 = UUID.randomUUID();
        CompletableFuture<long[]> window = CompletableFuture.supplyAsync(() -> {
            // The second run well under way (it writes on until the snapshot is taken, however fast the disk).
            await("500 more writes issued").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(1))
                    .until(() -> writer.issuedCount() >= 3500);
            long start = System.nanoTime();
            created.createSnapshot(rid, s2, "s2", 8);
            return new long[]{start, System.nanoTime()};
        });
        long writeUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // a snapshot that never ends fails below
        writer.run(replica, 4000, () -> !window.isDone() && System.nanoTime() < writeUntil);
        long[] taken = window.get(60, TimeUnit.SECONDS);
        long[] image2 = WriteHistory.read(pool.snapshot(s2), BLOCKS);
        List<Set<Long>> allowed = writer.allowedBetween(taken[0], taken[1]);
        for (int b = 0; b < BLOCKS; b++) {
            assertThat(allowed.get(b)).as("snapshot 2 block %d holds a write it may hold", b).contains(image2[b]);
        }
        long[] finalImage = writer.image();
        WriteHistory.assertImage(snap1, image1, "snapshot 1 after 4,000 more writes to its replica");
        WriteHistory.assertImage(pool.snapshot(s2), image2, "snapshot 2, read again after the writes");
        WriteHistory.assertImage(replica, finalImage, "the replica");
        replica.flush().join(); // its copy-on-write allocations since snapshot 2 are durable once flushed

        pool = reimport();
        replica = pool.replica(rid);
        assertThat(pool.snapshots()).extracting(Replica::uuid).containsExactlyInAnyOrder(s1, s2);
        assertThat(pool.snapshot(s1).record().snapshot()).satisfies(i -> {
            assertThat(i.source()).isEqualTo(rid);
            assertThat(i.txnId()).isEqualTo(7);
            assertThat(i.createdMs()).isPositive();
        });
        WriteHistory.assertImage(pool.snapshot(s1), image1, "snapshot 1 after a re-import");
        WriteHistory.assertImage(pool.snapshot(s2), image2, "snapshot 2 after a re-import");
        WriteHistory.assertImage(replica, finalImage, "the replica after a re-import");

        // A clone starts as snapshot 1 and diverges on its own.
        UUID cid = UUID.randomUUID();
        Replica clone = pool.createClone(s1, cid, "c");
        assertThat(pool.createClone(s1, cid, "c")).as("idempotent").isSameAs(clone);
        WriteHistory.assertImage(clone, image1, "a new clone of snapshot 1");
        WriteHistory cloneWriter = new WriteHistory(BLOCKS);
        cloneWriter.run(clone, 500);
        long[] cloneImage = image1.clone();
        long[] cloneWrites = cloneWriter.image();
        for (int b = 0; b < BLOCKS; b++) {
            if (cloneWrites[b] != 0) {
                cloneImage[b] = cloneWrites[b];
            }
        }
        WriteHistory.assertImage(clone, cloneImage, "the clone after its own writes");
        WriteHistory.assertImage(pool.snapshot(s1), image1, "snapshot 1 after writes to its clone");
        WriteHistory.assertImage(replica, finalImage, "the replica after writes to the clone");
        assertThat(pool.clonesOf(s1)).containsExactly(cid);

        // Deleting snapshot 1 while snapshot 2 and the clone read through it: hidden, kept.
        pool.destroySnapshot(s1);
        pool.destroySnapshot(s1); // idempotent
        assertThat(pool.snapshots()).extracting(Replica::uuid).containsExactly(s2);
        assertThat(pool.readersOf(s1)).hasSize(2);
        WriteHistory.assertImage(clone, cloneImage, "the clone after its snapshot was deleted");
        WriteHistory.assertImage(pool.snapshot(s2), image2, "snapshot 2 after snapshot 1 was deleted");

        // The clone goes: snapshot 1 has one reader left and merges into snapshot 2.
        pool.destroyReplica(cid);
        assertThat(pool.allSlots()).extracting(Replica::uuid).containsExactlyInAnyOrder(rid, s2);
        WriteHistory.assertImage(pool.snapshot(s2), image2, "snapshot 2 after snapshot 1 merged into it");
        WriteHistory.assertImage(replica, finalImage, "the replica after snapshot 1 merged into snapshot 2");

        // Snapshot 2 merges into the replica: everything the replica reads is its own again.
        pool.destroySnapshot(s2);
        assertThat(pool.allSlots()).extracting(Replica::uuid).containsExactly(rid);
        WriteHistory.assertImage(replica, finalImage, "the replica after its last snapshot merged into it");
        assertThat(pool.usedBytes()).as("no cluster leaked").isEqualTo(replica.allocatedBytes());
        pool = reimport(); // merges commit by themselves: no flush
        WriteHistory.assertImage(pool.replica(rid), finalImage, "the replica after the merges and a re-import");
        pool.destroyReplica(rid);
        assertThat(pool.usedBytes()).as("everything freed").isZero();
    }

    @Test
    void copyOnWriteAccountingAndRefusals() {
        Pool pool = registry.createPool("p", List.of(disk), MiB);
        UUID rid = UUID.randomUUID();
        Replica replica = pool.createReplica(rid, "r", 8 * MiB, false);
        ByteBuffer buf = DmaBuffers.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        for (int mib = 0; mib < 8; mib++) {
            CrashStream.fill(buf, 100 + mib, mib * (MiB / BLOCK));
            replica.write(mib * MiB, buf.clear()).join();
        }
        assertThat(pool.usedBytes()).isEqualTo(8 * MiB);
        UUID sid = UUID.randomUUID();
        Replica snap = pool.createSnapshot(rid, sid, "s", 1);
        assertThat(pool.createSnapshot(rid, sid, "s", 1)).as("idempotent").isSameAs(snap);
        assertThat(snap.allocatedBytes()).isEqualTo(8 * MiB);
        assertThat(replica.allocatedBytes()).isZero();
        assertThat(pool.usedBytes()).as("a snapshot copies nothing").isEqualTo(8 * MiB);
        assertThat(pool.committedBytes()).as("the replica at its size, the snapshot at what it holds").isEqualTo(16 * MiB);

        // The first write into a shared cluster copies it; the rest of that cluster still reads the snapshot's data.
        CrashStream.fill(buf, 999, 1);
        replica.write(BLOCK, buf.clear()).join();
        assertThat(replica.allocatedBytes()).isEqualTo(MiB);
        assertThat(pool.usedBytes()).isEqualTo(9 * MiB);
        long[] img = readFirstBlocks(replica, 2);
        assertThat(img).containsExactly(100, 999);
        assertThat(readFirstBlocks(snap, 2)).containsExactly(100, 0);

        assertThatThrownBy(() -> snap.write(0, buf.clear()).join()).satisfies(t ->
                assertThat(BlockIoException.unwrap(t).errno()).as("a snapshot is read-only").isEqualTo(BlockIoException.EROFS));
        assertKind(() -> pool.createSnapshot(UUID.randomUUID(), UUID.randomUUID(), "x", 1), Kind.NOT_FOUND, "not found");
        assertKind(() -> pool.createSnapshot(rid, sid, "other", 1), Kind.ALREADY_EXISTS, "name s");
        assertKind(() -> pool.createSnapshot(rid, rid, "x", 1), Kind.ALREADY_EXISTS, "is a replica's");
        assertKind(() -> pool.createSnapshot(rid, UUID.randomUUID(), "x", -1), Kind.INVALID_ARGUMENT, "txn_id");
        assertKind(() -> pool.createSnapshot(rid, UUID.randomUUID(), "x".repeat(65), 1), Kind.INVALID_ARGUMENT, "name");
        assertKind(() -> pool.createClone(UUID.randomUUID(), UUID.randomUUID(), "c"), Kind.NOT_FOUND, "snapshot");
        assertKind(() -> pool.createClone(sid, rid, "c"), Kind.ALREADY_EXISTS, "is not a clone");
        assertKind(() -> pool.createReplica(sid, "x", MiB, true), Kind.ALREADY_EXISTS, "is a snapshot's");
        assertThat(pool.snapshots()).hasSize(1);

        // Over the thin-commitment limit (2.0 x capacity here) a snapshot is refused and nothing changes.
        Replica big = pool.createReplica(UUID.randomUUID(), "big", pool.capacityBytes() * 2 - 16 * MiB, true);
        long used = pool.usedBytes();
        assertKind(() -> pool.createSnapshot(rid, UUID.randomUUID(), "y", 2), Kind.RESOURCE_EXHAUSTED, "overcommit");
        assertThat(pool.snapshots()).hasSize(1);
        assertThat(pool.usedBytes()).isEqualTo(used);
        assertThat(big.allocatedBytes()).isZero();
    }

    /**
     * A write refused after it passed the write gate (out of range, misaligned) gives its gate ticket back: a leaked
     * one would hold every later snapshot of the replica for ever, waiting for a write that never runs.
     */
    @Test
    void refusedWritesGiveTheirWriteGateTicketsBack() {
        Pool pool = registry.createPool("p", List.of(disk), MiB);
        UUID rid = UUID.randomUUID();
        Replica replica = pool.createReplica(rid, "r", 8 * MiB, false);
        ByteBuffer buf = DmaBuffers.allocate(BLOCK);
        for (int i = 0; i < 500; i++) {
            assertThatThrownBy(() -> replica.write(8 * MiB, buf.clear()).join()).satisfies(t ->
                    assertThat(BlockIoException.unwrap(t).errno()).isEqualTo(BlockIoException.ERANGE));
            assertThatThrownBy(() -> replica.writeFua(7, buf.clear()).join()).satisfies(t ->
                    assertThat(BlockIoException.unwrap(t).errno()).isEqualTo(BlockIoException.EINVAL));
            assertThatThrownBy(() -> replica.writeZeroes(8 * MiB - BLOCK, 2 * BLOCK).join()).satisfies(t ->
                    assertThat(BlockIoException.unwrap(t).errno()).isEqualTo(BlockIoException.ERANGE));
        }
        assertThat(replica.pauseWrites()).as("no admitted write is left").succeedsWithin(java.time.Duration.ofSeconds(10));
        replica.resumeWrites();
        replica.write(0, buf.clear()).join();
        assertThat(pool.createSnapshot(rid, UUID.randomUUID(), "s", 1).allocatedBytes()).as("a thick replica's clusters").isEqualTo(8 * MiB);
    }

    @Test
    void aVersionOnePoolImportsWithoutSnapshots() throws Exception {
        PoolLayout layout = PoolLayout.plan(64 * MiB, 4096, MiB, PoolLayout.DEFAULT_REPLICA_CAPACITY);
        ReplicaRecord[] slots = new ReplicaRecord[layout.replicaCapacity()];
        slots[3] = new ReplicaRecord(UUID.randomUUID(), "old", 2 * MiB, false);
        long[] map = new long[(int) layout.clusterCount()];
        map[5] = PoolMetadata.owner(3, 0);
        map[6] = PoolMetadata.owner(3, 1);
        ByteBuffer b = DmaBuffers.allocate((int) layout.metaCopySize());
        PoolMetadataCodec.encode(new PoolMetadata("old", UUID.randomUUID(), 64 * MiB, layout, 9, slots, map), b);
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(8, 1); // what a version-1 engine wrote: the same bytes, version 1
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b.duplicate().position(0).limit(PoolLayout.HEADER_SIZE - 4));
        b.putInt(PoolLayout.HEADER_SIZE - 4, (int) crc.getValue());
        PoolMetadata m = PoolMetadataCodec.decode(b, 64 * MiB);
        assertThat(m.slots()[3]).isEqualTo(slots[3]);
        assertThat(m.slots()[3].parent()).isEqualTo(-1);
        assertThat(m.slots()[3].isSnapshot()).isFalse();

        b.putInt(8, 3);
        crc.reset();
        crc.update(b.duplicate().position(0).limit(PoolLayout.HEADER_SIZE - 4));
        b.putInt(PoolLayout.HEADER_SIZE - 4, (int) crc.getValue());
        assertThatThrownBy(() -> PoolMetadataCodec.decode(b, 64 * MiB)).isInstanceOf(MetadataCorruptException.class)
                .hasMessageContaining("unsupported metadata version 3");
    }

    private static long[] readFirstBlocks(BlockDevice dev, int n) {
        long[] out = new long[n];
        ByteBuffer buf = DmaBuffers.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < n; b++) {
            buf.clear();
            dev.read((long) b * BLOCK, buf).join();
            out[b] = buf.getLong(0);
        }
        return out;
    }

    private static void assertKind(Runnable call, Kind kind, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(kind))
                .hasMessageContaining(message);
    }
}
