package io.javastor.ioengine.nexus;

import io.javastor.ioengine.EngineException;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.pool.DiskPolicy;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.pool.WriteHistory;
import io.javastor.ioengine.replica.Replica;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Volume snapshots consistent across a nexus's children, the way the control plane takes them: pause the nexus's
 * writes (in-flight ones complete, every child is flushed), snapshot each replica under the same name and transaction
 * id, resume. Taken in a loop under random writes at QD16 to a 3-replica nexus (three pools on real files, io_uring):
 * every snapshot is identical on all three replicas, holds what the write history allows at its point in time, and no
 * write fails.
 */
class NexusSnapshotTest {
    private static final long MiB = 1 << 20;
    private static final long SIZE = 16 * MiB;
    private static final int BLOCKS = (int) (SIZE / 4096);

    @TempDir
    Path dir;
    private BlockDeviceFactory devices;
    private PoolRegistry registry;
    private final List<Nexus> nexuses = new ArrayList<>();

    @BeforeEach
    void start() {
        devices = BlockDeviceFactory.withDefaults();
        registry = new PoolRegistry(devices, 2.0, DiskPolicy.below(dir, 64));
    }

    @AfterEach
    void stop() {
        nexuses.forEach(Nexus::destroy);
        registry.close();
        devices.close();
    }

    private record Child(Pool pool, Replica replica) {
    }

    private List<Child> children() {
        List<Child> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Pool p = registry.createPool("p" + i, List.of("uring://" + dir.resolve("disk" + i + ".img") + "?size_mb=320"), MiB); // room for every snapshot to hold all its clusters
            out.add(new Child(p, p.createReplica(UUID.randomUUID(), "r" + i, SIZE, true)));
        }
        return out;
    }

    private Nexus nexus(List<Child> children) {
        List<String> uris = children.stream().map(c -> c.replica().uri()).toList();
        Nexus n = Nexus.create(UUID.randomUUID(), SIZE, uris, uri -> children.stream().filter(c -> c.replica().uri().equals(uri))
                .findFirst().orElseThrow().replica(), NexusTest.options());
        nexuses.add(n);
        return n;
    }

    private record Taken(long from, long to, UUID[] snapshots, long pauseMicros) {
    }

    @Test
    void snapshotsTakenInALoopUnderWritesAreIdenticalOnEveryReplicaAndLoseNoWrite() throws Exception {
        List<Child> children = children();
        Nexus n = nexus(children);
        WriteHistory writer = new WriteHistory(BLOCKS);
        AtomicBoolean snapshotting = new AtomicBoolean(true);
        CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
            try {
                writer.run(n, 4_000, snapshotting::get); // on until the last snapshot, however fast the disk
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
        List<Taken> taken = new ArrayList<>();
        try {
            await("the writes under way").atMost(Duration.ofSeconds(60)).until(() -> writer.issuedCount() >= 500);
            for (int k = 0; k < 10 && !writes.isDone(); k++) { // done early only when a write failed
                long from = System.nanoTime();
                Nexus.WritePause pause = n.pauseWrites(Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS);
                long to = System.nanoTime();
                assertThat(pause.onlineChildren()).hasSize(3);
                UUID[] snaps = new UUID[3];
                for (int c = 0; c < 3; c++) {
                    snaps[c] = UUID.randomUUID();
                    children.get(c).pool().createSnapshot(children.get(c).replica().uuid(), snaps[c], "volume-snap-" + k, k);
                }
                assertThat(n.resumeWrites(pause.id())).as("the pause held until the resume").isTrue();
                taken.add(new Taken(from, to, snaps, (System.nanoTime() - from) / 1000));
            }
        } finally {
            snapshotting.set(false);
        }
        writes.get(120, TimeUnit.SECONDS); // fails on any write error

        for (int k = 0; k < taken.size(); k++) {
            Taken t = taken.get(k);
            long[][] images = new long[3][];
            for (int c = 0; c < 3; c++) {
                images[c] = WriteHistory.read(children.get(c).pool().snapshot(t.snapshots()[c]), BLOCKS);
            }
            assertThat(images[1]).as("snapshot %d on replica 2 equals replica 1's", k).isEqualTo(images[0]);
            assertThat(images[2]).as("snapshot %d on replica 3 equals replica 1's", k).isEqualTo(images[0]);
            List<Set<Long>> allowed = writer.allowedBetween(t.from(), t.to());
            for (int b = 0; b < BLOCKS; b++) {
                assertThat(allowed.get(b)).as("snapshot %d block %d holds a write it may hold", k, b).contains(images[0][b]);
            }
        }
        long[] pauses = taken.stream().mapToLong(Taken::pauseMicros).sorted().toArray();
        System.out.println("snapshots=" + taken.size() + " write_pause_p50_us=" + pauses[pauses.length / 2]
                + " write_pause_max_us=" + pauses[pauses.length - 1] + " (pause + 3 replica snapshots + resume, in process)");
        for (Child c : children) {
            WriteHistory.assertImage(c.replica(), writer.image(), "replica " + c.replica().name() + " after the writes");
        }
    }

    @Test
    void aPauseIsExclusiveAndEndsByItsLeaseWhenNobodyResumesIt() throws Exception {
        List<Child> children = children();
        Nexus n = nexus(children);
        Nexus.WritePause first = n.pauseWrites(Duration.ofMillis(300)).get(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> n.pauseWrites(Duration.ofSeconds(1))).isInstanceOfSatisfying(EngineException.class,
                e -> assertThat(e.kind()).isEqualTo(EngineException.Kind.FAILED_PRECONDITION)).hasMessageContaining("already paused");
        CompletableFuture<Void> held = n.write(0, io.javastor.ioengine.nexus.NexusTest.block(0, 1));
        assertThat(held).as("a write waits while paused").isNotDone();
        await().atMost(Duration.ofSeconds(10)).until(() -> !n.writesPaused());
        held.get(10, TimeUnit.SECONDS);
        assertThat(n.resumeWrites(first.id())).as("a pause its lease ended did not hold").isFalse();
        Nexus.WritePause second = n.pauseWrites(Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS);
        assertThat(second.id()).isNotEqualTo(first.id());
        assertThat(n.resumeWrites(first.id())).as("an old pause id does not end a new pause").isFalse();
        assertThat(n.writesPaused()).isTrue();
        assertThat(n.resumeWrites(second.id())).isTrue();
        assertThat(n.writesPaused()).isFalse();
    }
}
