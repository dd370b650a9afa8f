package io.javastor.bench;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.Replica;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
            RandomIoLoad.fill(r);
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
        System.out.printf("rounds=%d%nseconds_per_measurement=%d%n", rounds, seconds);
        // Each figure for read and for write, then the headline: the weaker of the two.
        pair("replica_vs_fio_qd1_%s_p50_latency", null, ratio(med, "replica_randread_qd1_p50_us", "fio_randread_qd1_p50_us"),
                ratio(med, "replica_randwrite_qd1_p50_us", "fio_randwrite_qd1_p50_us"), Math::max);
        pair("replica_vs_fio_qd32_%s_iops", "replica_vs_fio_qd32_iops", ratio(med, "replica_randread_qd32_iops", "fio_randread_qd32_iops"),
                ratio(med, "replica_randwrite_qd32_iops", "fio_randwrite_qd32_iops"), Math::min);
        pair("replica_vs_fio_qd1_%s_iops", "replica_vs_fio_qd1_iops", ratio(med, "replica_randread_qd1_iops", "fio_randread_qd1_iops"),
                ratio(med, "replica_randwrite_qd1_iops", "fio_randwrite_qd1_iops"), Math::min);
        pair("replica_vs_best_fio_qd32_%s_iops", "replica_vs_best_fio_qd32_iops", vsBestFio(med, "randread"), vsBestFio(med, "randwrite"),
                Math::min);
        pair("qd1_%s_cpu_us_per_io_vs_fio", "qd1_cpu_us_per_io_vs_fio",
                ratio(med, "replica_randread_qd1_cpu_us_per_io", "fio_randread_qd1_cpu_us_per_io"),
                ratio(med, "replica_randwrite_qd1_cpu_us_per_io", "fio_randwrite_qd1_cpu_us_per_io"), Math::max);
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

    private static double ratio(Map<String, Double> med, String ours, String reference) {
        return med.get(ours) / med.get(reference);
    }

    /** Ours against the better of plain and batched fio at QD32. */
    private static double vsBestFio(Map<String, Double> med, String rw) {
        return med.get("replica_" + rw + "_qd32_iops") / Math.max(med.get("fio_" + rw + "_qd32_iops"), med.get("fio_batched_" + rw + "_qd32_iops"));
    }

    /** Prints a figure for read and for write ({@code perSide} with %s), and the weaker of the two as {@code headline} if named. */
    private static void pair(String perSide, String headline, double read, double write, java.util.function.DoubleBinaryOperator weaker) {
        System.out.printf("%s=%.2f%n%s=%.2f%n", perSide.formatted("read"), read, perSide.formatted("write"), write);
        if (headline != null) {
            System.out.printf("%s=%.2f%n", headline, weaker.applyAsDouble(read, write));
        }
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
