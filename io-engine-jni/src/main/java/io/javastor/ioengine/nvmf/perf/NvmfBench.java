package io.javastor.ioengine.nvmf.perf;

import io.javastor.ioengine.bench.RandomIoLoad;
import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.device.DmaBuffers;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import io.javastor.ioengine.nvmf.target.NvmfTarget;
import io.javastor.ioengine.nvmf.target.NvmfTargetOptions;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.replica.Replica;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

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
            fill(replica);
            NvmfTarget target = new NvmfTarget(NvmfTargetOptions.defaults().withEventLoopThreads(1));
            int port = target.start("127.0.0.1", 0).getPort();
            target.addSubsystem(nqn, replica, "BENCH0001", "Javastor replica", Set.of());
            String uri = "nvmf://127.0.0.1:" + port + "/" + nqn;
            System.out.println("nvmf_bench_file=" + file);
            System.out.println("nvmf_bench_replica_mb=" + replicaMb);
            System.out.println("nvmf_bench_runs=" + runs);
            System.out.println("nvmf_bench_seconds=" + secs);
            double[][] res = new double[8][];
            int k = 0;
            try (NvmfBlockDevice remote = NvmfBlockDevice.connect(uri, NvmfHostOptions.defaults("nqn.2019-05.io.javastor:node-name:bench").withQueues(1, 128))) {
                for (String w : new String[] {"randread", "randwrite"}) {
                    for (int qd : new int[] {1, 32}) {
                        List<RandomIoLoad.Result> local = new ArrayList<>();
                        List<RandomIoLoad.Result> nvmf = new ArrayList<>();
                        for (int i = 0; i < runs; i++) {
                            local.add(NvmfPerf.run(replica, w, 0, 4096, qd, 0.5, secs, 0));
                            nvmf.add(NvmfPerf.run(remote, w, 0, 4096, qd, 0.5, secs, 0));
                        }
                        String lp = "local_" + w + "_qd" + qd;
                        String np = "nvmf_" + w + "_qd" + qd;
                        print(lp, local);
                        print(np, nvmf);
                        res[k++] = new double[] {median(local, RandomIoLoad.Result::iops), median(local, RandomIoLoad.Result::p50Micros),
                                median(local, RandomIoLoad.Result::meanMicros)};
                        res[k++] = new double[] {median(nvmf, RandomIoLoad.Result::iops), median(nvmf, RandomIoLoad.Result::p50Micros),
                                median(nvmf, RandomIoLoad.Result::meanMicros)};
                    }
                }
            } finally {
                target.close();
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

    private static void fill(Replica r) {
        int chunk = 1 << 20;
        ByteBuffer b = DmaBuffers.allocate(chunk);
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < chunk; i += 8) {
            b.putLong(i, rnd.nextLong());
        }
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (long off = 0; off < r.size(); off += chunk) {
            fs.add(r.write(off, b.duplicate().clear()));
            if (fs.size() == 16) {
                CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).join();
                fs.clear();
            }
        }
        CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).join();
        r.flush().join();
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
