package io.javastor.ioengine.pool;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.EngineException.Kind;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.replica.Replica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pools and replicas on a real file through io_uring (O_DIRECT): lifecycle, accounting, data, bad input. */
class PoolRegistryTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path dir;
    private BlockDeviceFactory devices;
    private PoolRegistry registry;
    private String disk;
    private Path file;

    @BeforeEach
    void start() {
        file = dir.resolve("disk.img");
        disk = "uring://" + file + "?size_mb=256";
        devices = BlockDeviceFactory.withDefaults();
        registry = new PoolRegistry(devices, 2.0, DiskPolicy.below(dir, 64));
    }

    @AfterEach
    void stop() {
        registry.close();
        devices.close();
    }

    private void restart() {
        registry.close();
        devices.close();
        devices = BlockDeviceFactory.withDefaults();
        registry = new PoolRegistry(devices, 2.0, DiskPolicy.below(dir, 64));
    }

    @Test
    void poolCreateExportImportDestroy() {
        Pool p = registry.createPool("p1", List.of(disk), 0);
        long capacity = p.capacityBytes();
        assertThat(capacity).isPositive().isLessThanOrEqualTo(256 * MiB).isEqualTo(p.layout().clusterCount() * 4 * MiB);
        assertThat(p.usedBytes()).isZero();
        UUID uuid = p.uuid();

        assertThat(registry.createPool("p1", List.of(disk), 0)).as("identical create is idempotent").isSameAs(p);
        registry.exportPool("p1");
        assertThat(registry.pools()).isEmpty();

        Pool again = registry.importPool("p1", List.of("uring://" + file));
        assertThat(again.uuid()).isEqualTo(uuid);
        assertThat(again.capacityBytes()).isEqualTo(capacity);

        registry.destroyPool("p1");
        assertThat(registry.pools()).isEmpty();
        assertThatThrownBy(() -> registry.importPool("p1", List.of("uring://" + file)))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND))
                .hasMessageContaining("no pool found");
        registry.destroyPool("p1"); // idempotent
    }

    @Test
    void createOnADiskHoldingAnotherPoolIsRefusedAndCreateOfTheSameNameImports() {
        Pool p = registry.createPool("p1", List.of(disk), 0);
        Replica r = registry.createReplica(UUID.randomUUID().toString(), "", "p1", 8 * MiB, false);
        registry.exportPool("p1");
        assertThatThrownBy(() -> registry.createPool("other", List.of(disk), 0))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FAILED_PRECONDITION))
                .hasMessageContaining("holds pool 'p1'");
        assertThatThrownBy(() -> registry.importPool("other", List.of(disk)))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FAILED_PRECONDITION));
        Pool back = registry.createPool("p1", List.of(disk), 0);
        assertThat(back.uuid()).isEqualTo(p.uuid());
        assertThat(back.replica(r.uuid())).isNotNull();
    }

    @Test
    void thickAndThinReplicasAccountExactly() {
        Pool p = registry.createPool("p1", List.of(disk), 0);
        long cs = p.layout().clusterSize();
        Replica thick = registry.createReplica(UUID.randomUUID().toString(), "thick", "p1", 10 * MiB, false);
        assertThat(p.usedBytes()).isEqualTo(3 * cs);
        assertThat(thick.allocatedBytes()).isEqualTo(3 * cs);
        Replica thin = registry.createReplica(UUID.randomUUID().toString(), "thin", "p1", 40 * MiB, true);
        assertThat(p.usedBytes()).isEqualTo(3 * cs);
        assertThat(p.committedBytes()).isEqualTo(3 * cs + 10 * cs);

        ByteBuffer b = DmaBuffers.allocate(4096);
        thin.write(13 * MiB, b).join();
        assertThat(thin.allocatedBytes()).isEqualTo(cs);
        assertThat(p.usedBytes()).isEqualTo(4 * cs);

        registry.resizeReplica(thick.uuid().toString(), 17 * MiB);
        assertThat(thick.size()).isEqualTo(17 * MiB);
        assertThat(p.usedBytes()).isEqualTo(6 * cs);
        registry.resizeReplica(thin.uuid().toString(), 80 * MiB);
        assertThat(p.usedBytes()).isEqualTo(6 * cs);
        assertThat(p.committedBytes()).isEqualTo(5 * cs + 20 * cs);

        assertThatThrownBy(() -> registry.resizeReplica(thick.uuid().toString(), 4 * MiB))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FAILED_PRECONDITION))
                .hasMessageContaining("only grow");

        registry.destroyReplica(thick.uuid().toString(), "p1");
        registry.destroyReplica(thick.uuid().toString(), "p1"); // idempotent
        assertThat(p.usedBytes()).isEqualTo(cs);
        registry.destroyReplica(thin.uuid().toString(), "");
        assertThat(p.usedBytes()).isZero();
        assertThat(p.committedBytes()).isZero();

        // The same numbers after a restart: they come from the metadata, not from memory.
        Replica again = registry.createReplica(UUID.randomUUID().toString(), "x", "p1", 9 * MiB, false);
        restart();
        Pool q = registry.importPool("p1", List.of(disk));
        assertThat(q.usedBytes()).isEqualTo(3 * cs);
        assertThat(q.replica(again.uuid()).size()).isEqualTo(9 * MiB);
    }

    @Test
    void dataReadsBackIdenticalAfterRestartAndUnwrittenThinRangesAreZero() {
        registry.createPool("p1", List.of(disk), 0);
        Replica thick = registry.createReplica(UUID.randomUUID().toString(), "", "p1", 12 * MiB, false);
        Replica thin = registry.createReplica(UUID.randomUUID().toString(), "", "p1", 12 * MiB, true);
        byte[] expectThick = new byte[(int) (12 * MiB)];
        byte[] expectThin = new byte[(int) (12 * MiB)];
        SplittableRandom rnd = new SplittableRandom(7);
        ByteBuffer io = DmaBuffers.allocate(64 * 1024);
        for (int i = 0; i < 200; i++) {
            Replica r = i % 2 == 0 ? thick : thin;
            byte[] expect = i % 2 == 0 ? expectThick : expectThin;
            int len = (1 + rnd.nextInt(16)) * 4096;
            long off = rnd.nextLong((12 * MiB - len) / 4096) * 4096;
            io.clear().limit(len);
            for (int j = 0; j < len; j++) {
                byte v = (byte) rnd.nextInt();
                io.put(j, v);
                expect[(int) off + j] = v;
            }
            r.write(off, io).join(); // crosses cluster boundaries now and then
        }
        thick.flush().join();
        thin.flush().join();
        restart();
        registry.importPool("p1", List.of(disk));
        assertThat(readAll(registry.requireReplica(thick.uuid().toString()))).isEqualTo(expectThick);
        assertThat(readAll(registry.requireReplica(thin.uuid().toString()))).isEqualTo(expectThin);
    }

    @Test
    void aClusterReusedByAnotherReplicaNeverShowsTheOldData() {
        registry.createPool("p1", List.of(disk), 0);
        // Fill the whole pool with a thick replica of non-zero data, then free it.
        Pool p = registry.requirePool("p1");
        long capacity = p.capacityBytes();
        Replica old = registry.createReplica(UUID.randomUUID().toString(), "", "p1", capacity, false);
        ByteBuffer ones = DmaBuffers.allocate((int) MiB);
        while (ones.hasRemaining()) {
            ones.put((byte) 0x5a);
        }
        for (long off = 0; off < capacity; off += MiB) {
            old.write(off, ones.clear()).join();
        }
        registry.destroyReplica(old.uuid().toString(), "p1");
        Replica thin = registry.createReplica(UUID.randomUUID().toString(), "", "p1", capacity, true);
        Replica thick = registry.createReplica(UUID.randomUUID().toString(), "", "p1", 8 * MiB, false);
        thin.write(5 * MiB, DmaBuffers.allocate(4096)).join();
        byte[] thinData = readAll(thin);
        assertThat(countNonZero(thinData)).as("bytes of a freed replica visible through a new thin replica").isZero();
        assertThat(countNonZero(readAll(thick))).as("bytes of a freed replica visible through a new thick replica").isZero();
    }

    @Test
    void capacityLimitsAreEnforcedWithClearErrorsAndChangeNothing() {
        Pool p = registry.createPool("p1", List.of(disk), 0);
        long capacity = p.capacityBytes();
        assertThatThrownBy(() -> registry.createReplica(UUID.randomUUID().toString(), "", "p1", capacity + 4 * MiB, false))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.RESOURCE_EXHAUSTED))
                .hasMessageContaining("free clusters");
        registry.createReplica(UUID.randomUUID().toString(), "", "p1", capacity, true);
        registry.createReplica(UUID.randomUUID().toString(), "", "p1", capacity, true);
        assertThatThrownBy(() -> registry.createReplica(UUID.randomUUID().toString(), "", "p1", 4 * MiB, true))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.RESOURCE_EXHAUSTED))
                .hasMessageContaining("overcommit");
        assertThat(p.replicas()).hasSize(2);
        assertThat(p.usedBytes()).isZero();
    }

    @Test
    void badInputNamesTheFieldAndChangesNothing() {
        registry.createPool("p1", List.of(disk), 0);
        String id = UUID.randomUUID().toString();
        registry.createReplica(id, "r", "p1", 8 * MiB, true);

        expectInvalid(() -> registry.createPool("p2", List.of("nvme:///dev/x"), 0), "disks", "unsupported scheme");
        expectInvalid(() -> registry.createPool("p2", List.of("uring://" + dir.resolve("missing.img")), 0), "disks", "must exist");
        expectInvalid(() -> registry.createPool("p2", List.of(), 0), "disks", "required");
        expectInvalid(() -> registry.createPool("a/b", List.of(disk), 0), "name", "'/'");
        expectInvalid(() -> registry.createPool("", List.of(disk), 0), "name", "required");
        expectInvalid(() -> registry.createPool("p2", List.of("uring://" + dir.resolve("b.img") + "?size_mb=64"), 3 * MiB), "cluster_size", "power of two");
        expectInvalid(() -> registry.createReplica(UUID.randomUUID().toString(), "", "p1", 0, true), "size", "greater than 0");
        expectInvalid(() -> registry.createReplica(UUID.randomUUID().toString(), "", "p1", 4 * MiB + 100, true), "size", "multiple");
        expectInvalid(() -> registry.createReplica(UUID.randomUUID().toString(), "x/y", "p1", 4 * MiB, true), "name", "'/'");
        expectInvalid(() -> registry.createReplica("not-a-uuid", "", "p1", 4 * MiB, true), "uuid", "not a UUID");
        expectInvalid(() -> registry.createReplica(UUID.randomUUID().toString(), "", "", 4 * MiB, true), "pool", "required");
        assertThatThrownBy(() -> registry.createReplica(UUID.randomUUID().toString(), "", "nope", 4 * MiB, true))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND));
        assertThatThrownBy(() -> registry.createReplica(id, "r", "p1", 12 * MiB, true))
                .as("same uuid, different size")
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.ALREADY_EXISTS));
        assertThat(registry.createReplica(id, "r", "p1", 8 * MiB, true).uuid().toString()).as("identical create").isEqualTo(id);
        assertThatThrownBy(() -> registry.createPool("p1", List.of("uring://" + dir.resolve("c.img") + "?size_mb=64"), 0))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.ALREADY_EXISTS));

        assertThat(registry.pools()).extracting(Pool::name).containsExactly("p1");
        assertThat(registry.replicas()).extracting(r -> r.uuid().toString()).containsExactly(id);
        assertThat(Files.exists(dir.resolve("missing.img"))).as("a missing file is not silently created").isFalse();
        assertThat(Files.exists(dir.resolve("b.img"))).as("a refused create leaves no file behind").isFalse();
    }

    @Test
    void flippedMetadataBytesAreDetectedReportedAndNeverUsed() throws IOException {
        Pool p = registry.createPool("p1", List.of(disk), 0);
        Replica r = registry.createReplica(UUID.randomUUID().toString(), "", "p1", 8 * MiB, true);
        long copySize = p.layout().metaCopySize();
        registry.exportPool("p1");

        // One copy damaged: detected, reported, the other copy used and the damaged one rewritten.
        flip(file, 4096 + 3 * 128 + 40);
        Pool back = registry.importPool("p1", List.of(disk));
        assertThat(back.statusReason()).contains("copy A").contains("payload checksum mismatch");
        assertThat(back.replica(r.uuid())).isNotNull();
        registry.exportPool("p1");
        restart();
        assertThat(registry.importPool("p1", List.of(disk)).statusReason()).as("repaired on the previous import").isEmpty();
        registry.exportPool("p1");

        // Both copies damaged: the import fails with DATA_LOSS naming both; nothing is imported or overwritten.
        flip(file, 100);
        flip(file, copySize + 4096 + 7);
        assertThatThrownBy(() -> registry.importPool("p1", List.of(disk)))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.DATA_LOSS))
                .hasMessageContaining("copy A").hasMessageContaining("header checksum mismatch")
                .hasMessageContaining("copy B").hasMessageContaining("payload checksum mismatch");
        assertThatThrownBy(() -> registry.createPool("p1", List.of(disk), 0))
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FAILED_PRECONDITION))
                .hasMessageContaining("damaged");
        assertThatThrownBy(() -> registry.importAny(disk)).as("engine start reports a damaged pool, never skips it silently")
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.DATA_LOSS));
    }

    private static void flip(Path f, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x10);
        }
    }

    private void expectInvalid(Runnable call, String field, String detail) {
        assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(EngineException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID_ARGUMENT))
                .hasMessageStartingWith(field + ":")
                .hasMessageContaining(detail);
    }

    static byte[] readAll(Replica r) {
        byte[] out = new byte[(int) r.size()];
        ByteBuffer b = DmaBuffers.allocate((int) MiB);
        for (long off = 0; off < r.size(); off += MiB) {
            int n = (int) Math.min(MiB, r.size() - off);
            b.clear().limit(n);
            r.read(off, b).join();
            b.get(0, out, (int) off, n);
        }
        return out;
    }

    private static long countNonZero(byte[] data) {
        long n = 0;
        for (byte x : data) {
            if (x != 0) {
                n++;
            }
        }
        return n;
    }
}
