package io.javastor.ioengine.process;

import io.javastor.testsupport.FreePorts;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.javastor.testsupport.IoEngineStubs;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/** A real io-engine (the Spring Boot application) in its own JVM, on free loopback ports. */
public final class IoEngineProcess implements AutoCloseable {
    private final String nodeName;
    private final List<String> disks;
    private final Path log;
    private final List<String> extraArgs;
    private final int grpcPort;
    private final int httpPort;
    private final int nvmfPort;
    private Process process;
    private ManagedChannel channel;

    public IoEngineProcess(String nodeName, List<String> disks, Path log, List<String> extraArgs) {
        this.nodeName = nodeName;
        this.disks = disks;
        this.log = log;
        this.extraArgs = extraArgs;
        this.grpcPort = FreePorts.next();
        this.httpPort = FreePorts.next();
        this.nvmfPort = FreePorts.next();
    }

    public IoEngineProcess start() throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "--javastor.io-engine.node-name=" + nodeName,
                "--spring.grpc.server.port=" + grpcPort,
                "--server.port=" + httpPort));
        if (extraArgs.stream().noneMatch(a -> a.startsWith("--javastor.io-engine.nvmf.port="))) {
            args.add("--javastor.io-engine.nvmf.port=" + nvmfPort); // never the shared default 8420 in tests
        }
        if (extraArgs.stream().noneMatch(a -> a.startsWith("--javastor.io-engine.disk-policy.allowed-paths="))) {
            // Tests keep their pool files in temporary folders: those, and nothing else on this machine.
            args.add("--javastor.io-engine.disk-policy.allowed-paths=" + Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize() + "/**");
        }
        if (!disks.isEmpty()) {
            args.add("--javastor.io-engine.disks=" + String.join(",", disks));
        }
        args.addAll(extraArgs);
        process = JavaProcess.builder("io.javastor.ioengine.IoEngineApplication", args)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        await("io-engine " + nodeName + " healthy").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("io-engine exited with " + process.exitValue() + ": " + Files.readString(log));
                    }
                    return healthy();
                });
        if (channel == null) {
            channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        }
        return this;
    }

    public boolean healthy() {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"UP\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public String http(String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    public IoEngineStubs api() {
        return IoEngineStubs.on(channel, Duration.ofSeconds(30));
    }

    public Process process() {
        return process;
    }

    public int grpcPort() {
        return grpcPort;
    }

    /** CPU time (user + system) the process has used, in clock ticks. */
    public long cpuTicks() throws IOException {
        String[] f = Files.readString(Path.of("/proc/" + process.pid() + "/stat")).split("\\) ")[1].split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    public void kill9() throws IOException, InterruptedException {
        JavaProcess.kill9(process);
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, java.util.concurrent.TimeUnit.SECONDS)) {
                kill9();
            }
        }
        if (channel != null) {
            channel.shutdownNow();
        }
    }
}
