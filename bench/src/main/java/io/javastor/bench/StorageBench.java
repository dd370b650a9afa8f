package io.javastor.bench;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.Replica;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * {@code bench/run storage}: 4 KiB random read and write at QD1 and QD32 through a replica on a pool
 * file, and fio on the same file range in the same run; medians of several rounds as key=value lines.
 */
@Command(name = "storage-bench", mixinStandardHelpOptions = true)
public final class StorageBench implements Callable<Integer> {
    @Option(names = "--dir", description = "directory for the test file (a real disk, not tmpfs)", defaultValue = "/var/tmp/javastor-bench")
    Path dir;
    @Option(names = "--size-mb", description = "replica size (the range both sides read and write)", defaultValue = "1024")
    long sizeMb;
    @Option(names = "--seconds", description = "seconds per measurement", defaultValue = "8")
    int seconds;
    @Option(names = "--rounds", description = "rounds; medians are reported", defaultValue = "3")
    int rounds;
    @Option(names = "--spin-us", description = "completion poller's hybrid spin window around a lone I/O's due time (microseconds; 0 = never spin)",
            defaultValue = "10")
    long spinMicros;

    public static void main(String[] args) {
        System.exit(new CommandLine(new StorageBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(dir);
        Path file = dir.resolve("storage-bench.img");
        Files.deleteIfExists(file);
        long size = sizeMb << 20;
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        try (BlockDeviceFactory devices = new BlockDeviceFactory(256, spinMicros, 0);
             PoolRegistry registry = new PoolRegistry(devices, 2.5, io.javastor.ioengine.pool.DiskPolicy.below(dir, 0))) {
            Pool pool = registry.createPool("bench", List.of("uring://" + file + "?size_mb=" + (sizeMb + 64)), 0);
            Replica r = registry.createReplica(UUID.randomUUID().toString(), "bench", "bench", size, false);
            long physOffset = pool.layout().dataOffset();
            fill(r);
            System.out.println("# replica " + r.uuid() + ": " + sizeMb + " MiB thick, filled; its clusters start at byte " + physOffset
                    + " of " + file + " (fio uses the same range)");
            for (int round = 1; round <= rounds; round++) {
                for (boolean read : new boolean[]{true, false}) {
                    String rw = read ? "randread" : "randwrite";
                    for (int qd : new int[]{1, 32}) {
                        // Alternate who goes first, so neither side always meets the other's write-back.
                        RandomIoLoad.Result ours;
                        FioRun.Result fio;
                        if (round % 2 == 1) {
                            ours = ours(r, read, qd, size, round);
                            fio = FioRun.random(file, read, qd, physOffset, size, seconds, false);
                        } else {
                            fio = FioRun.random(file, read, qd, physOffset, size, seconds, false);
                            ours = ours(r, read, qd, size, round);
                        }
                        String cell = rw + "_qd" + qd;
                        add(samples, "replica_" + cell + "_iops", ours.iops());
                        add(samples, "replica_" + cell + "_p50_us", ours.p50Micros());
                        add(samples, "replica_" + cell + "_p99_us", ours.p99Micros());
                        add(samples, "replica_" + cell + "_cpu_us_per_io", ours.cpuMicrosPerIo());
                        add(samples, "fio_" + cell + "_iops", fio.iops());
                        add(samples, "fio_" + cell + "_p50_us", fio.p50Micros());
                        add(samples, "fio_" + cell + "_p99_us", fio.p99Micros());
                        add(samples, "fio_" + cell + "_cpu_us_per_io", fio.cpuMicrosPerIo());
                        String batchedNote = "";
                        if (qd > 1) {
                            // fio's best at depth submits and reaps in batches, as our engine does.
                            FioRun.Result batched = FioRun.random(file, read, qd, physOffset, size, seconds, true);
                            add(samples, "fio_batched_" + cell + "_iops", batched.iops());
                            add(samples, "fio_batched_" + cell + "_p50_us", batched.p50Micros());
                            batchedNote = String.format(" | fio batched %.0f IOPS", batched.iops());
                        }
                        System.out.printf("# round %d %s: replica %.0f IOPS p50 %.1f us %.1f cpu-us/io | fio %.0f IOPS p50 %.1f us %.1f cpu-us/io%s%n",
                                round, cell, ours.iops(), ours.p50Micros(), ours.cpuMicrosPerIo(), fio.iops(), fio.p50Micros(),
                                fio.cpuMicrosPerIo(), batchedNote);
                    }
                }
            }
            // What the hybrid poller concluded on this machine (docs/io-engine.md): spin for a lone I/O, or sleep.
            System.out.printf("uring_poller_spins_for_lone_io=%s%nuring_expected_lone_completion_us=%.1f%n",
                    devices.reactor().spinsForLoneOperations(), devices.reactor().expectedCompletionNanos() / 1e3);
            registry.destroyPool("bench");
        } finally {
            Files.deleteIfExists(file);
        }
        Map<String, Double> med = new LinkedHashMap<>();
        samples.forEach((k, v) -> med.put(k, median(v)));
        med.forEach((k, v) -> System.out.printf("%s=%.1f%n", k, v));
        double readRatio = med.get("replica_randread_qd32_iops") / med.get("fio_randread_qd32_iops");
        double writeRatio = med.get("replica_randwrite_qd32_iops") / med.get("fio_randwrite_qd32_iops");
        System.out.printf("replica_vs_fio_qd1_read_p50_latency=%.2f%n", med.get("replica_randread_qd1_p50_us") / med.get("fio_randread_qd1_p50_us"));
        System.out.printf("replica_vs_fio_qd1_write_p50_latency=%.2f%n", med.get("replica_randwrite_qd1_p50_us") / med.get("fio_randwrite_qd1_p50_us"));
        System.out.printf("replica_vs_fio_qd32_read_iops=%.2f%n", readRatio);
        System.out.printf("replica_vs_fio_qd32_write_iops=%.2f%n", writeRatio);
        System.out.printf("rounds=%d%nseconds_per_measurement=%d%n", rounds, seconds);
        System.out.printf("replica_vs_fio_qd32_iops=%.2f%n", Math.min(readRatio, writeRatio));
        // The headline figures: each the weaker of read and write.
        double qd1Read = ratio(med, "replica_randread_qd1_iops", "fio_randread_qd1_iops");
        double qd1Write = ratio(med, "replica_randwrite_qd1_iops", "fio_randwrite_qd1_iops");
        System.out.printf("replica_vs_fio_qd1_read_iops=%.2f%nreplica_vs_fio_qd1_write_iops=%.2f%n", qd1Read, qd1Write);
        System.out.printf("replica_vs_fio_qd1_iops=%.2f%n", Math.min(qd1Read, qd1Write));
        double bestRead = med.get("replica_randread_qd32_iops")
                / Math.max(med.get("fio_randread_qd32_iops"), med.get("fio_batched_randread_qd32_iops"));
        double bestWrite = med.get("replica_randwrite_qd32_iops")
                / Math.max(med.get("fio_randwrite_qd32_iops"), med.get("fio_batched_randwrite_qd32_iops"));
        System.out.printf("replica_vs_best_fio_qd32_read_iops=%.2f%nreplica_vs_best_fio_qd32_write_iops=%.2f%n", bestRead, bestWrite);
        System.out.printf("replica_vs_best_fio_qd32_iops=%.2f%n", Math.min(bestRead, bestWrite));
        double cpuRead = ratio(med, "replica_randread_qd1_cpu_us_per_io", "fio_randread_qd1_cpu_us_per_io");
        double cpuWrite = ratio(med, "replica_randwrite_qd1_cpu_us_per_io", "fio_randwrite_qd1_cpu_us_per_io");
        System.out.printf("qd1_read_cpu_us_per_io_vs_fio=%.2f%nqd1_write_cpu_us_per_io_vs_fio=%.2f%n", cpuRead, cpuWrite);
        System.out.printf("qd1_cpu_us_per_io_vs_fio=%.2f%n", Math.max(cpuRead, cpuWrite));
        return 0;
    }

    private RandomIoLoad.Result ours(Replica r, boolean read, int qd, long size, int round) throws InterruptedException {
        RandomIoLoad.Result res = RandomIoLoad.run(r, new RandomIoLoad.Options(4096, qd, Duration.ofSeconds(1),
                Duration.ofSeconds(seconds), read ? 1.0 : 0.0, 0, size, round));
        if (res.errors() > 0) {
            throw new IllegalStateException("replica I/O errors: " + res.firstError());
        }
        return res;
    }

    /** Writes every block once with random data: reads of never-written (sparse/unwritten) ranges never reach the disk. */
    static void fill(Replica r) {
        ByteBuffer buf = DmaBuffers.allocate(1 << 20);
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < buf.capacity(); i += 8) {
            buf.putLong(i, rnd.nextLong());
        }
        List<java.util.concurrent.CompletableFuture<Void>> inflight = new ArrayList<>();
        for (long off = 0; off < r.size(); off += 1 << 20) {
            inflight.add(r.write(off, buf.duplicate().clear()));
            if (inflight.size() == 16) {
                inflight.forEach(java.util.concurrent.CompletableFuture::join);
                inflight.clear();
            }
        }
        inflight.forEach(java.util.concurrent.CompletableFuture::join);
        r.flush().join();
    }

    private static double ratio(Map<String, Double> med, String ours, String reference) {
        return med.get(ours) / med.get(reference);
    }

    private static void add(Map<String, List<Double>> m, String k, double v) {
        m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
