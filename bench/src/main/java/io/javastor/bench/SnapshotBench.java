package io.javastor.bench;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nexus.Nexus;
import io.javastor.ioengine.nexus.NexusOptions;
import io.javastor.ioengine.pool.DiskPolicy;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.Replica;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/run snapshot [DIR] [SIZE_MB] [ROUNDS] [SECONDS] [SNAPSHOTS]}: volume snapshots the way the control plane
 * takes them (pause the nexus's writes, snapshot its three replicas under one transaction, resume), in process, on
 * three pool files (thick replicas, filled first). Per round: QD32 4 KiB random write IOPS before any snapshot; the
 * create time of SNAPSHOTS snapshots taken while a QD32 write load runs; IOPS right after a snapshot (first writes copy
 * their clusters); IOPS once every cluster has been copied. Medians of the rounds as key=value lines.
 */
public final class SnapshotBench {
    private SnapshotBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/var/tmp/javastor-bench-snapshot");
        long sizeMb = args.length > 1 ? Long.parseLong(args[1]) : 256;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        int snapshots = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        long size = sizeMb << 20;
        Files.createDirectories(dir);
        List<Double> before = new ArrayList<>();
        List<Double> first = new ArrayList<>();
        List<Double> after = new ArrayList<>();
        List<Double> createP50 = new ArrayList<>();
        List<Double> createP99 = new ArrayList<>();
        List<Double> drainP50 = new ArrayList<>();
        List<Double> drainP99 = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<Path> files = new ArrayList<>();
            try (BlockDeviceFactory devices = new BlockDeviceFactory(256, 50, 0);
                 PoolRegistry registry = new PoolRegistry(devices, 100.0, new DiskPolicy(List.of(dir.toAbsolutePath().normalize() + "/**"), 0))) {
                List<Pool> pools = new ArrayList<>();
                List<Replica> replicas = new ArrayList<>();
                for (int i = 1; i <= 3; i++) {
                    Path f = dir.resolve("snapshot-bench-" + i + ".img");
                    Files.deleteIfExists(f);
                    files.add(f);
                    // Room for the replica, its copies and the snapshots' clusters. The whole file is written first: a
                    // pool's disk has every block, while copies into a sparse file's holes would time ext4's block
                    // allocation and journal commits at each flush, not the pool.
                    preWrite(f, (sizeMb * (snapshots + 4) + 64) << 20);
                    Pool p = registry.createPool("s" + i, List.of("uring://" + f), 0);
                    pools.add(p);
                    replicas.add(p.createReplica(UUID.randomUUID(), "r" + i, size, false));
                }
                for (Replica r : replicas) {
                    RandomIoLoad.fill(r);
                }
                Nexus n = Nexus.create(UUID.randomUUID(), size, replicas.stream().map(Replica::uri).toList(),
                        uri -> replicas.stream().filter(r -> r.uri().equals(uri)).findFirst().orElseThrow(), NexusOptions.defaults());
                try {
                    before.add(load(n, size, seconds, round).iops());

                    // Snapshots under load: each one's create time (pause + 3 replica snapshots + resume) and its pause.
                    double[] creates = new double[snapshots];
                    double[] pauses = new double[snapshots];
                    double[] resumes = new double[snapshots]; // letting the held writes go: they start on the resuming thread
                    int underLoadSeed = round + 100;
                    CompletableFuture<RandomIoLoad.Result> running = CompletableFuture.supplyAsync(() -> {
                        try {
                            return load(n, size, seconds * 3, underLoadSeed);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                    });
                    TimeUnit.SECONDS.sleep(1); // a benchmark's pacing, not a test's synchronisation: let the load ramp up
                    for (int s = 0; s < snapshots; s++) {
                        Nexus.WritePause pause = n.pauseWrites(Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS);
                        long paused = System.nanoTime();
                        snapshotAll(pools, replicas, "bench-" + s, s + 1);
                        long r0 = System.nanoTime();
                        if (!n.resumeWrites(pause.id())) {
                            throw new IllegalStateException("the pause did not hold");
                        }
                        long t1 = System.nanoTime();
                        // Writes wait from when the nexus began to hold them (after its flush ahead of the pause, which they
                        // do not wait for) to the resume: this long; of which draining the writes in flight and flushing.
                        creates[s] = (t1 - pause.heldSinceNanos()) / 1e6;
                        pauses[s] = (paused - pause.heldSinceNanos()) / 1e6;
                        resumes[s] = (t1 - r0) / 1e6;
                        TimeUnit.MILLISECONDS.sleep(seconds * 1000L / snapshots); // spread them over the load
                    }
                    RandomIoLoad.Result under = running.get(600, TimeUnit.SECONDS);
                    System.out.printf("# round %d: create ms in order %s; of which drain and flush %s, resume %s%n", round, rounded(creates),
                            rounded(pauses), rounded(resumes));
                    Arrays.sort(creates);
                    Arrays.sort(pauses);
                    createP50.add(creates[creates.length / 2]);
                    createP99.add(creates[Math.min(creates.length - 1, (int) Math.ceil(creates.length * 0.99) - 1)]);
                    drainP50.add(pauses[pauses.length / 2]);
                    drainP99.add(pauses[Math.min(pauses.length - 1, (int) Math.ceil(pauses.length * 0.99) - 1)]);
                    System.out.printf("# round %d: %d snapshots under load (%.0f IOPS meanwhile), create p50 %.1f ms p99 %.1f ms%n", round,
                            snapshots, under.iops(), createP50.get(createP50.size() - 1), createP99.get(createP99.size() - 1));

                    // One more snapshot, then writes: the first ones copy their clusters; then, once all are copied, again.
                    Nexus.WritePause pause = n.pauseWrites(Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS);
                    snapshotAll(pools, replicas, "bench-last", snapshots + 1);
                    n.resumeWrites(pause.id());
                    first.add(load(n, size, 1, round + 200).iops());
                    RandomIoLoad.fill(n); // every cluster copied once
                    after.add(load(n, size, seconds, round + 300).iops());
                    System.out.printf("# round %d: write IOPS before %.0f, first second after a snapshot %.0f, once copied %.0f%n", round,
                            before.get(before.size() - 1), first.get(first.size() - 1), after.get(after.size() - 1));
                } finally {
                    n.destroy();
                }
            } finally {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
        }
        System.out.printf("write_iops_before_snapshot=%.0f%n", median(before));
        System.out.printf("write_iops_first_second_after_snapshot=%.0f%n", median(first));
        System.out.printf("write_iops_after_snapshot_copied=%.0f%n", median(after));
        System.out.printf("snapshot_create_p50_ms=%.1f%n", median(createP50));
        System.out.printf("snapshot_create_p99_ms=%.1f%n", median(createP99));
        System.out.printf("snapshot_drain_and_flush_p50_ms=%.1f%n", median(drainP50));
        System.out.printf("snapshot_drain_and_flush_p99_ms=%.1f%n", median(drainP99));
        System.out.printf("write_iops_first_after_snapshot_vs_before=%.2f%n", median(first) / median(before));
        System.out.printf("write_iops_after_snapshot_vs_before=%.2f%n", median(after) / median(before));
    }

    /** The three replica snapshots at once, as the core agent takes them (each on its own node there). */
    /** One thread per replica, as the core agent calls the three nodes at once (the common pool has one thread on 2 cores). */
    private static final java.util.concurrent.ExecutorService NODE_CALLS = java.util.concurrent.Executors.newFixedThreadPool(3, r -> {
        Thread t = new Thread(r, "snapshot-call");
        t.setDaemon(true);
        return t;
    });

    private static String rounded(double[] ms) {
        return Arrays.stream(ms).mapToObj(v -> String.format("%.0f", v)).toList().toString();
    }

    private static void snapshotAll(List<Pool> pools, List<Replica> replicas, String name, long txn) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int c = 0; c < pools.size(); c++) {
            Pool p = pools.get(c);
            UUID replica = replicas.get(c).uuid();
            all.add(CompletableFuture.runAsync(() -> p.createSnapshot(replica, UUID.randomUUID(), name, txn), NODE_CALLS));
        }
        all.forEach(CompletableFuture::join);
    }

    private static RandomIoLoad.Result load(io.javastor.ioengine.device.BlockDevice d, long size, int seconds, int seed) throws InterruptedException {
        RandomIoLoad.Result r = RandomIoLoad.run(d, new RandomIoLoad.Options(4096, 32, Duration.ofMillis(500), Duration.ofSeconds(seconds),
                0.0, 0, size, seed));
        if (r.errors() > 0) {
            throw new IllegalStateException("I/O errors through " + d.uri() + ": " + r.firstError());
        }
        return r;
    }

    /** Writes the file whole (zeroes), so the pool on it has every block allocated, as a disk has. */
    private static void preWrite(Path f, long bytes) throws java.io.IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(4 << 20);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            for (long off = 0; off < bytes; off += chunk.capacity()) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), bytes - off));
                while (chunk.hasRemaining()) {
                    ch.write(chunk, off + chunk.position());
                }
            }
            ch.force(true);
        }
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
