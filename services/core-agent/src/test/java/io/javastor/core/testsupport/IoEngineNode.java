package io.javastor.core.testsupport;

import io.javastor.testsupport.FreePorts;
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

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.javastor.testsupport.IoEngineStubs;

/**
 * A real io-engine: the io-engine-jni module's Spring Boot exec jar in its own JVM, on free loopback
 * ports, registering with the given core agent. The jar's path comes from the system property
 * {@code javastor.test.ioengine.jar} (set by this module's pom); without it the test is skipped with a message.
 */
public final class IoEngineNode implements AutoCloseable {

    private final String nodeName;
    private final int grpcPort = FreePorts.next();
    private final int httpPort = FreePorts.next();
    private final int nvmfPort = FreePorts.next();
    private final Path log;
    private final String coreAgentEndpoint;
    private Process process;
    private ManagedChannel channel;

    public IoEngineNode(String nodeName, String coreAgentEndpoint, Path logDir) {
        this.nodeName = nodeName;
        this.coreAgentEndpoint = coreAgentEndpoint;
        this.log = logDir.resolve(nodeName + ".log");
    }

    public static Path jar() {
        String jar = System.getProperty("javastor.test.ioengine.jar", "");
        Assumptions.assumeTrue(!jar.isBlank() && Files.isRegularFile(Path.of(jar)),
                "SKIPPED: no io-engine exec jar (javastor.test.ioengine.jar='" + jar + "'); build with the reactor: mvn verify -pl services/core-agent -am");
        return Path.of(jar);
    }

    public IoEngineNode start() throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString(),
                "--javastor.io-engine.node-name=" + nodeName,
                "--javastor.io-engine.core-agent-endpoint=" + coreAgentEndpoint,
                "--spring.grpc.server.host=127.0.0.1",
                "--spring.grpc.server.port=" + grpcPort,
                "--javastor.io-engine.nvmf.port=" + nvmfPort, // never the shared default 8420
                // Tests keep their pool files in temporary folders: those, and nothing else on this machine.
                "--javastor.io-engine.disk-policy.allowed-paths=" + Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize() + "/**",
                "--server.address=127.0.0.1",
                "--server.port=" + httpPort));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        Awaitility.await("io-engine " + nodeName + " healthy").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("io-engine " + nodeName + " exited: " + Files.readString(log));
                    }
                    try {
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/health"))
                                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                        return r.statusCode() == 200;
                    } catch (IOException e) {
                        return false;
                    }
                });
        if (channel == null) {
            channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        }
        return this;
    }

    public String name() {
        return nodeName;
    }

    public IoEngineStubs api() {
        return IoEngineStubs.on(channel, Duration.ofSeconds(30));
    }

    /** SIGKILL: the node vanishes without deregistering. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                kill9();
            }
        }
        if (channel != null) {
            channel.shutdownNow();
        }
    }
}
