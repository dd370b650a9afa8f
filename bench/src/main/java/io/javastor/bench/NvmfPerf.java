package io.javastor.bench;

import io.javastor.ioengine.device.BlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfBlockDevice;
import io.javastor.ioengine.nvmf.host.NvmfHostOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Like SPDK's {@code nvme perf}: random I/O at a queue depth over N I/O queues against any NVMe/TCP
 * target, printing key=value lines (IOPS, MiB/s, latency percentiles).
 *
 * <pre>java -cp ... io.javastor.ioengine.nvmf.perf.NvmfPerf -r nvmf://127.0.0.1:8420/nqn... -q 32 -Q 1 -w randread -t 10</pre>
 */
@Command(name = "nvmf-perf", mixinStandardHelpOptions = true, description = "NVMe/TCP random I/O benchmark (key=value output)")
public final class NvmfPerf implements Callable<Integer> {
    @Option(names = {"-r", "--uri"}, required = true, description = "target: nvmf://host:port/nqn")
    String uri;
    @Option(names = {"-q", "--queue-depth"}, defaultValue = "32", description = "I/Os in flight (total)")
    int queueDepth;
    @Option(names = {"-Q", "--queues"}, defaultValue = "1", description = "I/O queues (connections)")
    int queues;
    @Option(names = {"-o", "--io-size"}, defaultValue = "4096", description = "bytes per I/O")
    int ioSize;
    @Option(names = {"-w", "--workload"}, defaultValue = "randread", description = "randread, randwrite or randrw")
    String workload;
    @Option(names = {"-M", "--read-percent"}, defaultValue = "50", description = "reads in randrw, percent")
    int readPercent;
    @Option(names = {"-t", "--time"}, defaultValue = "10", description = "seconds to measure")
    double seconds;
    @Option(names = {"--warmup"}, defaultValue = "0.5", description = "seconds before measuring")
    double warmup;
    @Option(names = {"--region-mb"}, defaultValue = "0", description = "MiB from offset 0 to address (0 = whole namespace)")
    long regionMb;
    @Option(names = {"--host-nqn"}, defaultValue = "nqn.2019-05.io.javastor:node-name:nvmf-perf")
    String hostNqn;
    @Option(names = {"--hdgst"}, description = "header digests")
    boolean hdgst;
    @Option(names = {"--ddgst"}, description = "data digests")
    boolean ddgst;
    @Option(names = {"--prefix"}, defaultValue = "nvmf", description = "key prefix of the output lines")
    String prefix;

    public static void main(String[] args) {
        System.exit(new CommandLine(new NvmfPerf()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        NvmfHostOptions o = NvmfHostOptions.defaults(hostNqn).withQueues(queues, Math.max(2, Math.min(1024, queueDepth + 1)))
                .withDigests(hdgst, ddgst);
        try (NvmfBlockDevice dev = NvmfBlockDevice.connect(uri, o)) {
            RandomIoLoad.Result r = run(dev, workload, readPercent, ioSize, queueDepth, warmup, seconds, regionMb << 20);
            System.out.println(prefix + "_uri=" + uri);
            System.out.println(prefix + "_workload=" + workload + " qd=" + queueDepth + " queues=" + dev.ioQueueCount() + " io_size=" + ioSize);
            System.out.println(r.line(prefix));
            return r.errors() == 0 ? 0 : 1;
        }
    }

    /** One measurement against any device; shared with {@link NvmfBench} so both paths are measured the same way. */
    public static RandomIoLoad.Result run(BlockDevice dev, String workload, int readPercent, int ioSize, int queueDepth,
                                          double warmupSeconds, double seconds, long regionBytes) throws InterruptedException {
        double reads = switch (workload) {
            case "randread" -> 1.0;
            case "randwrite" -> 0.0;
            case "randrw" -> readPercent / 100.0;
            default -> throw new IllegalArgumentException("workload must be randread, randwrite or randrw, not " + workload);
        };
        long region = regionBytes <= 0 ? dev.size() / ioSize * ioSize : regionBytes;
        RandomIoLoad.Options opts = new RandomIoLoad.Options(ioSize, queueDepth, Duration.ofMillis((long) (warmupSeconds * 1000)),
                Duration.ofMillis((long) (seconds * 1000)), reads, 0, region, 42);
        return RandomIoLoad.run(dev, opts);
    }
}
