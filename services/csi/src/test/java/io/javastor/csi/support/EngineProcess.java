package io.javastor.csi.support;

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
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** A real io-engine (its Spring Boot application) in its own JVM on free loopback ports. */
public final class EngineProcess implements AutoCloseable {
    private final String node;
    private final Path log;
    private final List<String> extraArgs;
    private final int grpcPort = FreePorts.next();
    private final int httpPort = FreePorts.next();
    private Process process;
    private ManagedChannel channel;

    public EngineProcess(String node, Path log, List<String> extraArgs) {
        this.node = node;
        this.log = log;
        this.extraArgs = extraArgs;
    }

    public static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public EngineProcess start() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        String lib = System.getProperty("javastor.native.lib");
        if (lib != null) {
            cmd.add("-Djavastor.native.lib=" + lib);
        }
        String jar = System.getProperty("javastor.io-engine.jar");
        if (jar == null || !Files.isReadable(Path.of(jar))) {
            throw new IllegalStateException("the io-engine's executable jar (-Djavastor.io-engine.jar) is missing: " + jar);
        }
        cmd.addAll(List.of("-jar", jar,
                "--javastor.io-engine.node-name=" + node, "--spring.grpc.server.port=" + grpcPort, "--server.port=" + httpPort,
                // Tests keep their pool files in temporary folders: those, and nothing else on this machine.
                "--javastor.io-engine.disk-policy.allowed-paths=" + Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize() + "/**"));
        if (extraArgs.stream().noneMatch(a -> a.startsWith("--javastor.io-engine.nvmf.port="))) {
            cmd.add("--javastor.io-engine.nvmf.port=" + FreePorts.next());
        }
        cmd.addAll(extraArgs);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        await("io-engine " + node + " healthy").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("io-engine exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            return healthy();
        });
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        return this;
    }

    private boolean healthy() {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + httpPort + "/actuator/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("\"UP\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public IoEngineStubs api() {
        return IoEngineStubs.on(channel, Duration.ofSeconds(60));
    }

    @Override
    public void close() throws Exception {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
