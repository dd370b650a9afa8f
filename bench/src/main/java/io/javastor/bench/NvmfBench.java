package io.javastor.bench;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.tgt.NvmfTarget;
import io.javastor.ioengine.nvmf.tgt.NvmfTargetOptions;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.replica.Replica;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * bench/nvmf.sh: a replica on a pool on a uring file, measured directly (local path) and through our
 * NVMe/TCP target on loopback with the perf tool's load (remote path), alternating, medians of several runs.
 * Args: DIR [RUNS] [SECONDS] [REPLICA_MB].
 */
public final class NvmfBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/javastor-bench-nvmf");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        double secs = args.length > 2 ? Double.parseDouble(args[2]) : 3;
        long replicaMb = args.length > 3 ? Long.parseLong(args[3]) : 512;
        Files.createDirectories(dir);
        Path file = dir.resolve("pool.img");
        Files.deleteIfExists(file);
        String nqn = "nqn.2019-05.io.javastor:" + UUID.randomUUID();
        try (BlockDeviceFactory factory = BlockDeviceFactory.withDefaults()) {
            String diskUri = "uring://" + file + "?size_mb=" + (replicaMb + 64);
            BlockDevice disk = factory.open(diskUri);
            Pool pool = Pool.create(diskUri, disk, "bench", 4 << 20, 2.5);
            Replica replica = pool.createReplica(UUID.randomUUID(), "bench", replicaMb << 20, false);
            RandomIoLoad.fill(replica);
            // Development aid: -Dnvmf.bench.variants="a:TSPIN:REAP:HSPIN[:digests];b:..." measures several target/host
            // configurations in the same time window (each its own target and connection on the same replica);
            // "digests" turns on header and data digests (CRC32C) on that connection. The first variant is the one
            // the summary lines report. Default: one variant with the defaults.
            List<String[]> variants = new ArrayList<>();
            for (String v : System.getProperty("nvmf.bench.variants", "").split(";")) {
                if (!v.isBlank()) {
                    variants.add(v.split(":"));
                }
            }
            if (variants.isEmpty()) {
                variants.add(new String[] {"", String.valueOf(NvmfTargetOptions.DEFAULT_BUSY_POLL_MICROS), "true",
                        String.valueOf(NvmfHostOptions.DEFAULT_BUSY_POLL_MICROS)});
            }
            List<NvmfTarget> targets = new ArrayList<>();
            List<NvmfBlockDevice> remotes = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            System.out.println("nvmf_bench_file=" + file);
            System.out.println("nvmf_bench_replica_mb=" + replicaMb);
            System.out.println("nvmf_bench_runs=" + runs);
            System.out.println("nvmf_bench_seconds=" + secs);
            double[][] res = new double[8][];
            int k = 0;
            try {
                for (String[] v : variants) {
                    NvmfTarget target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(1)
                            .withBusyPoll(Long.parseLong(v[1])).withPollReactor(Boolean.parseBoolean(v[2]) ? factory.loopReactor() : null));
                    targets.add(target);
                    int port = target.start("127.0.0.1", 0).getPort();
                    ports.add(port);
                    target.addSubsystem(nqn, replica, "BENCH0001", "Javastor replica", Set.of());
                    remotes.add(NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/" + nqn,
                            NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:bench").withQueues(1, 128).withBusyPoll(Long.parseLong(v[3]))
                                    .withDigests(digests(v), digests(v))));
                    if (!v[0].isEmpty()) {
                        System.out.println("nvmf_bench_variant_" + v[0] + "=target_spin_us=" + v[1] + " target_reaps=" + v[2] + " host_spin_us=" + v[3]
                                + " digests=" + digests(v));
                    }
                }
                // Warm-up, untimed, of every path and workload before any measured run: the JIT must have compiled
                // each path (the local one is already warm from the fill; the NVMe/TCP one, socket code included,
                // is not) or the first runs measure the compiler. Same treatment for both paths.
                double warm = Double.parseDouble(System.getProperty("nvmf.bench.warmup", "2"));
                if (warm > 0) {
                    for (String w : new String[] {"randread", "randwrite"}) {
                        for (int qd : new int[] {32, 1}) {
                            NvmfPerf.run(replica, w, 0, 4096, qd, 0, warm, 0);
                            for (NvmfBlockDevice r : remotes) {
                                NvmfPerf.run(r, w, 0, 4096, qd, 0, warm, 0);
                            }
                        }
                    }
                }
                System.out.println("nvmf_bench_warmup_seconds_per_path_and_case=" + warm);
                String only = System.getProperty("nvmf.bench.only", ""); // e.g. "randread:32" (development: one case)
                for (String w : new String[] {"randread", "randwrite"}) {
                    for (int qd : new int[] {1, 32}) {
                        if (!only.isEmpty() && !only.equals(w + ":" + qd)) {
                            res[k++] = new double[] {1, 0, 0};
                            res[k++] = new double[] {1, 0, 0};
                            continue;
                        }
                        java.util.Map<String, List<Double>> cpu = new java.util.HashMap<>();
                        List<RandomIoLoad.Result> local = new ArrayList<>();
                        List<List<RandomIoLoad.Result>> nvmf = new ArrayList<>();
                        remotes.forEach(r -> nvmf.add(new ArrayList<>()));
                        for (int i = 0; i < runs; i++) {
                            local.add(measure(replica, w, qd, secs, cpu, "local"));
                            for (int j = 0; j < remotes.size(); j++) {
                                nvmf.get(j).add(measure(remotes.get(j), w, qd, secs, cpu, "nvmf" + j));
                            }
                        }
                        print("local_" + w + "_qd" + qd, local);
                        System.out.printf("local_%s_qd%d_cpu_us_per_io=%.1f%n", w, qd, medianOf(cpu.get("local")));
                        for (int j = 0; j < remotes.size(); j++) {
                            String name = variants.get(j)[0];
                            String np = "nvmf_" + (name.isEmpty() ? "" : name + "_") + w + "_qd" + qd;
                            print(np, nvmf.get(j));
                            System.out.printf("%s_cpu_us_per_io=%.1f%n", np, medianOf(cpu.get("nvmf" + j)));
                        }
                        res[k++] = new double[] {median(local, RandomIoLoad.Result::iops), median(local, RandomIoLoad.Result::p50Micros),
                                median(local, RandomIoLoad.Result::meanMicros)};
                        res[k++] = new double[] {median(nvmf.get(0), RandomIoLoad.Result::iops), median(nvmf.get(0), RandomIoLoad.Result::p50Micros),
                                median(nvmf.get(0), RandomIoLoad.Result::meanMicros)};
                    }
                }
                mallocCell(factory, targets.get(0), ports.get(0), runs, secs);
            } finally {
                remotes.forEach(NvmfBlockDevice::close);
                targets.forEach(NvmfTarget::close);
                pool.close();
            }
            // res order: read qd1 local, nvmf; read qd32 local, nvmf; write qd1 local, nvmf; write qd32 local, nvmf
            System.out.printf("nvmf_vs_local_qd32_randwrite_iops=%.2f%n", res[7][0] / res[6][0]);
            System.out.printf("nvmf_added_latency_qd1_randwrite_us=%.1f%n", res[5][1] - res[4][1]);
            System.out.printf("nvmf_added_latency_qd1_randread_us=%.1f%n", res[1][1] - res[0][1]);
            System.out.printf("nvmf_vs_local_qd32_randread_iops=%.2f%n", res[3][0] / res[2][0]);
            System.out.printf("nvmf_vs_local_qd32_iops=%.2f%n", res[3][0] / res[2][0]);
            System.out.printf("nvmf_added_latency_qd1_us=%.1f%n", res[1][1] - res[0][1]);
        }
        Files.deleteIfExists(file);
    }

    /**
     * The pure protocol cost: a RAM disk ({@code malloc://}, filled first) exported by the same target and read through
     * NVMe/TCP at QD1 and QD32, next to reading it directly. No disk in the way, so what remains is the transport.
     */
    private static void mallocCell(BlockDeviceFactory factory, NvmfTarget target, int port, int runs, double secs) throws Exception {
        BlockDevice ram = factory.open("malloc:///nvmf-bench-ram?size_mb=256");
        RandomIoLoad.fill(ram);
        String nqn = "nqn.2019-05.io.javastor:bench-malloc-" + UUID.randomUUID();
        target.addSubsystem(nqn, ram, "BENCHRAM01", "Javastor malloc", Set.of());
        try (NvmfBlockDevice remote = NvmfBlockDevice.connect("nvmf://127.0.0.1:" + port + "/" + nqn,
                NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:bench").withQueues(1, 128))) {
            double warm = Double.parseDouble(System.getProperty("nvmf.bench.warmup", "2"));
            for (int qd : new int[] {32, 1}) {
                NvmfPerf.run(remote, "randread", 0, 4096, qd, 0, warm, 0);
            }
            for (int qd : new int[] {1, 32}) {
                java.util.Map<String, List<Double>> cpu = new java.util.HashMap<>();
                List<RandomIoLoad.Result> local = new ArrayList<>();
                List<RandomIoLoad.Result> nvmf = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    local.add(measure(ram, "randread", qd, secs, cpu, "local"));
                    nvmf.add(measure(remote, "randread", qd, secs, cpu, "nvmf"));
                }
                print("malloc_local_randread_qd" + qd, local);
                print("nvmf_malloc_randread_qd" + qd, nvmf);
                System.out.printf("nvmf_malloc_randread_qd%d_cpu_us_per_io=%.1f%n", qd, medianOf(cpu.get("nvmf")));
                if (qd == 1) {
                    System.out.printf("nvmf_malloc_qd1_read_p50_us=%.1f%n", median(nvmf, RandomIoLoad.Result::p50Micros));
                } else {
                    System.out.printf("nvmf_malloc_qd32_read_iops=%.0f%n", median(nvmf, RandomIoLoad.Result::iops));
                }
            }
        } finally {
            target.removeSubsystem(nqn);
        }
    }

    /**
     * One measured run; also records the process CPU time per I/O over it (all threads: spinning included), which,
     * unlike IOPS, says little about what else runs on the machine.
     */
    private static RandomIoLoad.Result measure(BlockDevice dev, String w, int qd, double secs, java.util.Map<String, List<Double>> cpu,
                                               String key) throws InterruptedException {
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        RandomIoLoad.Result r = NvmfPerf.run(dev, w, 0, 4096, qd, 0.5, secs, 0);
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpuUs = (os.getProcessCpuTime() - c0) / 1e3;
        cpu.computeIfAbsent(key, k -> new ArrayList<>()).add(r.iops() > 0 ? cpuUs / (r.iops() * wall) : 0);
        return r;
    }

    private static boolean digests(String[] variant) {
        return variant.length > 4 && variant[4].equals("digests");
    }

    private static double medianOf(List<Double> l) {
        double[] v = l.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length == 0 ? 0 : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double median(List<RandomIoLoad.Result> l, java.util.function.ToDoubleFunction<RandomIoLoad.Result> f) {
        double[] v = l.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static void print(String prefix, List<RandomIoLoad.Result> l) {
        System.out.printf("%s_iops=%.0f%n", prefix, median(l, RandomIoLoad.Result::iops));
        System.out.printf("%s_mibps=%.1f%n", prefix, median(l, RandomIoLoad.Result::mibPerSec));
        System.out.printf("%s_p50_us=%.1f%n", prefix, median(l, RandomIoLoad.Result::p50Micros));
        System.out.printf("%s_p99_us=%.1f%n", prefix, median(l, RandomIoLoad.Result::p99Micros));
        System.out.printf("%s_errors=%d%n", prefix, l.stream().mapToLong(RandomIoLoad.Result::errors).sum());
        System.out.printf("%s_all_iops=%s%n", prefix, Arrays.toString(l.stream().mapToLong(x -> Math.round(x.iops())).toArray()));
    }
}
