package io.javastor.ioengine.process;

import io.javastor.testsupport.JavaProcess;

import io.javastor.ioengine.device.BlockDeviceFactory;
import io.javastor.ioengine.pool.Pool;
import io.javastor.ioengine.pool.PoolRegistry;
import io.javastor.ioengine.pool.StreamModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real processes, real SIGKILL: a process runs the storage stack on a file through io_uring and is
 * killed -9 at a random point of a stream of replica operations and writes. The pool must then import
 * with every acknowledged replica and every flushed write; nothing unacknowledged may appear.
 */
class KillNineCrashTest {
    private static final int ROUNDS = 20;

    @TempDir
    Path dir;

    @Test
    void twentyKillsMidStreamLoseNothingAcknowledged() throws Exception {
        SplittableRandom rnd = new SplittableRandom(2026);
        List<String> failures = new ArrayList<>();
        int totalAcks = 0;
        for (int round = 1; round <= ROUNDS; round++) {
            Path file = dir.resolve("crash-" + round + ".img");
            String disk = "uring://" + file + "?size_mb=96";
            List<String> jvm = new ArrayList<>(List.of("-Xmx512m"));
            jvm.addAll(JavaProcess.nativeLibraryOptions());
            Process p = new ProcessBuilder(JavaProcess.command(JavaProcess.Program.mainClass(CrashStreamProcess.class.getName()), jvm,
                            List.of(disk, Long.toString(round), "100000")))
                    .redirectError(dir.resolve("crash-" + round + ".err").toFile()).start();
            StreamModel model = new StreamModel();
            int killAfter = 40 + rnd.nextInt(400);
            boolean killed = false;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line = in.readLine();
                assertThat(line).as("round %d: the process did not start: %s", round, stderr(round)).isEqualTo("READY");
                int events = 0;
                while ((line = in.readLine()) != null) {
                    if (line.equals("DONE")) {
                        break;
                    }
                    model.apply(line);
                    if (++events == killAfter && !killed) {
                        JavaProcess.kill9(p);
                        killed = true; // keep reading: events already in the pipe happened before the kill
                    }
                }
            }
            assertThat(killed).as("round %d: killed mid-stream (stream ended first)", round).isTrue();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("exit status of a SIGKILLed process").isEqualTo(137);
            totalAcks += model.acks();

            try (BlockDeviceFactory devices = BlockDeviceFactory.withDefaults(); PoolRegistry registry = new PoolRegistry(devices, 2.5, io.javastor.ioengine.pool.DiskPolicy.below(dir, 0))) {
                Pool pool = registry.importPool("crash", List.of("uring://" + file));
                List<String> problems = model.verify(pool);
                if (!problems.isEmpty()) {
                    failures.add("round " + round + " (killed after " + killAfter + " events): " + problems);
                }
            }
            Files.delete(file);
        }
        assertThat(totalAcks).as("acknowledged operations across all rounds").isGreaterThan(ROUNDS * 10);
        assertThat(failures).as("pools that lost acknowledged state after kill -9").isEmpty();
    }

    private String stderr(int round) throws java.io.IOException {
        Path f = dir.resolve("crash-" + round + ".err");
        return Files.exists(f) ? Files.readString(f) : "";
    }
}
