package io.javastor.bench;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs fio (ioengine=io_uring, direct=1) as the reference and reads its JSON output. */
public final class FioRun {
    /** @param cpuMicrosPerIo fio's own CPU time (user and system) per I/O */
    public record Result(double iops, double p50Micros, double p99Micros, double cpuMicrosPerIo) {
    }

    private FioRun() {
    }

    /**
     * @param batched submit and reap in batches ({@code --iodepth_batch_submit=16 --iodepth_batch_complete_min=1}):
     *                fio's best configuration at depth, the one to compare a batching engine with
     */
    public static Result random(Path file, boolean read, int queueDepth, long offset, long size, int seconds, boolean batched)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=ref", "--filename=" + file, "--ioengine=io_uring", "--direct=1",
                "--rw=" + (read ? "randread" : "randwrite"), "--bs=4k", "--iodepth=" + queueDepth, "--offset=" + offset,
                "--size=" + size, "--time_based", "--runtime=" + seconds, "--ramp_time=1", "--norandommap", "--randrepeat=0",
                "--lat_percentiles=1", "--output-format=json"));
        if (batched) {
            cmd.addAll(List.of("--iodepth_batch_submit=" + Math.min(16, queueDepth), "--iodepth_batch_complete_min=1"));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("fio failed (" + p.exitValue() + "): " + err);
        }
        JsonNode all = JsonMapper.builder().build().readTree(out.substring(out.indexOf('{'))).get("jobs").get(0);
        JsonNode job = all.get(read ? "read" : "write");
        JsonNode pct = job.get("lat_ns").get("percentile");
        double iops = job.get("iops").asDouble();
        // usr_cpu and sys_cpu are percent of one CPU over the job's run.
        double cpuPerIo = iops == 0 ? 0 : (all.get("usr_cpu").asDouble() + all.get("sys_cpu").asDouble()) / 100.0 * 1e6 / iops;
        return new Result(iops, pct.get("50.000000").asDouble() / 1000.0, pct.get("99.000000").asDouble() / 1000.0, cpuPerIo);
    }
}
