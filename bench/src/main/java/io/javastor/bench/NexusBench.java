package io.javastor.bench;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nexus.ChildDeviceOpener;
import io.javastor.ioengine.nexus.Nexus;
import io.javastor.ioengine.nexus.NexusOptions;
import io.javastor.ioengine.nexus.RebuildState;
import io.javastor.ioengine.nexus.RebuildStats;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.replica.Replica;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/run nexus [DIR] [SIZE_MB] [ROUNDS] [SECONDS]}: 4 KiB random writes through a nexus with one and with three
 * local children (thick replicas on three pool files of the same disk, filled first), QD32 IOPS and QD1 latency, in
 * alternating order; then a full rebuild of a fresh replica against dd copying the same number of bytes between the
 * same files with O_DIRECT. Medians of the rounds as key=value lines.
 */
public final class NexusBench {
    private NexusBench() {
    }

    /** The bench's own files, and the devices it was given (loop devices bench/nexus.sh set up), or its RAM disks. */
    private static io.javastor.ioengine.pool.DiskPolicy benchDisks(Path dir, long mallocMb) {
        List<String> allowed = new ArrayList<>(List.of(dir.toAbsolutePath().normalize() + "/**"));
        String given = System.getProperty("nexus.bench.devices", "");
        if (!given.isBlank()) {
            allowed.addAll(Arrays.asList(given.split(",")));
        }
        return new io.javastor.ioengine.pool.DiskPolicy(allowed, mallocMb);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/var/tmp/javastor-bench-nexus");
        long sizeMb = args.length > 1 ? Long.parseLong(args[1]) : 256;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        long size = sizeMb << 20;
        // -Dnexus.bench.malloc=true (bench/nexus.sh --malloc): each pool on its own RAM disk in this process
        // (malloc://, SPDK's malloc bdev): no device and no kernel under the children, only the nexus's own cost.
        boolean malloc = Boolean.getBoolean("nexus.bench.malloc");
        String childrenOn = malloc ? "malloc" : System.getProperty("nexus.bench.devices", "").isBlank() ? "files" : "devices";
        long poolMb = sizeMb + 64;
        Files.createDirectories(dir);
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        try (BlockDeviceFactory devices = new BlockDeviceFactory(256, 50, Integer.getInteger("nexus.bench.sqpoll.ms", 0));
             PoolRegistry registry = new PoolRegistry(devices, 2.5, benchDisks(dir, malloc ? poolMb : 0))) {
            List<Replica> replicas = new ArrayList<>();
            // -Dnexus.bench.devices=/dev/loop0,... (four block devices): children on separate devices instead of
            // four files of the one disk (bench/nexus.sh --ram-disks sets up loop devices over RAM for this).
            String devicesProp = System.getProperty("nexus.bench.devices", "");
            List<Path> devicesGiven = devicesProp.isBlank() ? List.of() : Arrays.stream(devicesProp.split(",")).map(Path::of).toList();
            if (!devicesGiven.isEmpty() && devicesGiven.size() != 4) {
                throw new IllegalArgumentException("nexus.bench.devices needs four block devices, got " + devicesGiven);
            }
            if (malloc && !devicesGiven.isEmpty()) {
                throw new IllegalArgumentException("nexus.bench.malloc and nexus.bench.devices exclude each other");
            }
            for (int i = 1; i <= 4; i++) {
                if (malloc) {
                    registry.createPool("b" + i, List.of("malloc:///nexus-bench-" + i + "?size_mb=" + poolMb), 0);
                    replicas.add(registry.createReplica(UUID.randomUUID().toString(), "r" + i, "b" + i, size, false));
                    continue;
                }
                Path f;
                if (devicesGiven.isEmpty()) {
                    f = dir.resolve("nexus-bench-" + i + ".img");
                    Files.deleteIfExists(f);
                    files.add(f);
                } else {
                    f = devicesGiven.get(i - 1);
                }
                registry.createPool("b" + i, List.of("uring://" + f + (devicesGiven.isEmpty() ? "?size_mb=" + (sizeMb + 64) : "")), 0);
                replicas.add(registry.createReplica(UUID.randomUUID().toString(), "r" + i, "b" + i, size, false));
            }
            for (int i = 0; i < 3; i++) {
                RandomIoLoad.fill(replicas.get(i));
            }
            ChildDeviceOpener opener = uri -> replicas.stream().filter(r -> r.uri().equals(uri)).findFirst().orElseThrow();
            NexusOptions options = NexusOptions.defaults();
            Nexus one = Nexus.create(UUID.randomUUID(), size, List.of(replicas.get(0).uri()), opener, options);
            Nexus three = Nexus.create(UUID.randomUUID(), size, replicas.subList(0, 3).stream().map(Replica::uri).toList(), opener, options);
            String where = malloc ? "RAM disks (malloc://) in this process" : devicesGiven.isEmpty() ? "files in " + dir : "devices " + devicesGiven;
            System.out.println("# " + sizeMb + " MiB thick replicas on 4 pools (" + where + "), filled; " + rounds + " rounds of "
                    + seconds + " s per measurement");
            for (int round = 1; round <= rounds; round++) {
                Nexus[] order = round % 2 == 1 ? new Nexus[]{one, three} : new Nexus[]{three, one};
                for (Nexus n : order) {
                    String k = n == one ? "nexus1" : "nexus3";
                    long cpu0 = processCpuNanos();
                    long t0 = System.nanoTime();
                    RandomIoLoad.Result qd32 = load(n, 32, size, seconds, round);
                    // Process CPU per I/O (spinning included): says more than IOPS on a machine others share.
                    double cpuUsPerIo = (processCpuNanos() - cpu0) / 1e3 / (qd32.iops() * (System.nanoTime() - t0) / 1e9);
                    add(samples, k + "_randwrite_qd32_cpu_us_per_io", cpuUsPerIo);
                    RandomIoLoad.Result qd1 = load(n, 1, size, seconds, round);
                    // Reads go to one child, the least busy: three children should read at least as fast as one.
                    RandomIoLoad.Result reads = load(n, 32, size, seconds, round, 1.0);
                    add(samples, k + "_randread_qd32_iops", reads.iops());
                    add(samples, k + "_randread_qd32_cpu_us_per_io", reads.cpuMicrosPerIo());
                    add(samples, k + "_randwrite_qd32_iops", qd32.iops());
                    add(samples, k + "_randwrite_qd1_p50_us", qd1.p50Micros());
                    add(samples, k + "_randwrite_qd1_p99_us", qd1.p99Micros());
                    System.out.printf("# round %d %s: qd32 %.0f IOPS (%.1f us CPU/IO), qd1 p50 %.1f us, qd32 reads %.0f IOPS%n", round, k,
                            qd32.iops(), cpuUsPerIo, qd1.p50Micros(), reads.iops());
                }
            }
            one.destroy();
            Pool p1 = registry.requirePool("b1");
            Pool p4 = registry.requirePool("b4");
            for (int round = 1; round <= rounds; round++) {
                // Rebuild: the nexus over r1 gets r4 added and copies every segment of it.
                Nexus n = Nexus.create(UUID.randomUUID(), size, List.of(replicas.get(0).uri()), opener, options);
                long t0 = System.nanoTime();
                n.addChild(replicas.get(3).uri());
                n.rebuild(replicas.get(3).uri()).orElseThrow().awaitEnd();
                double rebuildSec = (System.nanoTime() - t0) / 1e9;
                RebuildStats s = n.rebuildHistory().get(0);
                if (s.state() != RebuildState.COMPLETED) {
                    throw new IllegalStateException("rebuild " + s);
                }
                n.destroy();
                double rebuildMibps = sizeMb / rebuildSec;
                add(samples, "rebuild_mibps", rebuildMibps);
                if (malloc) {
                    // No file to copy with dd: RAM to RAM has no sequential-copy reference worth the name.
                    System.out.printf("# round %d rebuild %.0f MiB/s%n", round, rebuildMibps);
                    continue;
                }
                Path from = devicesGiven.isEmpty() ? files.get(0) : devicesGiven.get(0);
                Path to = devicesGiven.isEmpty() ? files.get(3) : devicesGiven.get(3);
                double dd = ddCopy(from, p1.layout().dataOffset(), to, p4.layout().dataOffset(), sizeMb);
                add(samples, "seqcopy_dd_mibps", dd);
                System.out.printf("# round %d rebuild %.0f MiB/s, dd copy %.0f MiB/s%n", round, rebuildMibps, dd);
            }
            three.destroy();
        } finally {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
        Map<String, Double> med = new LinkedHashMap<>();
        samples.forEach((k, v) -> med.put(k, median(v)));
        med.forEach((k, v) -> System.out.printf("%s=%.1f%n", k, v));
        System.out.printf("three_vs_one_replica_qd1_write_latency=%.2f%n", med.get("nexus3_randwrite_qd1_p50_us") / med.get("nexus1_randwrite_qd1_p50_us"));
        System.out.printf("three_vs_one_replica_write_iops=%.2f%n", med.get("nexus3_randwrite_qd32_iops") / med.get("nexus1_randwrite_qd32_iops"));
        System.out.printf("three_vs_one_replica_read_iops=%.2f%n", med.get("nexus3_randread_qd32_iops") / med.get("nexus1_randread_qd32_iops"));
        if (med.containsKey("seqcopy_dd_mibps")) {
            System.out.printf("rebuild_vs_seqcopy=%.2f%n", med.get("rebuild_mibps") / med.get("seqcopy_dd_mibps"));
        }
        System.out.printf("children_on=%s%n", childrenOn);
        System.out.printf("rounds=%d%nseconds_per_measurement=%d%nsize_mb=%d%n", rounds, seconds, sizeMb);
    }

    private static RandomIoLoad.Result load(BlockDevice d, int qd, long size, int seconds, int round) throws InterruptedException {
        return load(d, qd, size, seconds, round, 0.0);
    }

    private static RandomIoLoad.Result load(BlockDevice d, int qd, long size, int seconds, int round, double readFraction)
            throws InterruptedException {
        RandomIoLoad.Result r = RandomIoLoad.run(d, new RandomIoLoad.Options(4096, qd, Duration.ofSeconds(1), Duration.ofSeconds(seconds),
                readFraction, 0, size, round * 100L + qd));
        if (r.errors() > 0) {
            throw new IllegalStateException("I/O errors through " + d.uri() + ": " + r.firstError());
        }
        return r;
    }

    /** dd copying the same bytes between the same files (the replicas' data areas), O_DIRECT both ways; MiB/s. */
    private static double ddCopy(Path from, long fromOffset, Path to, long toOffset, long mb) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("dd", "if=" + from, "of=" + to, "bs=1M", "count=" + mb, "skip=" + fromOffset, "seek=" + toOffset,
                "iflag=direct,skip_bytes", "oflag=direct,seek_bytes", "conv=notrunc,fsync").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("dd failed: " + out);
        }
        return mb / ((System.nanoTime() - t0) / 1e9);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
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
